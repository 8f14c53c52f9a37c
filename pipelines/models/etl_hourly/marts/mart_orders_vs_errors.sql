-- Every hour of the window that saw requests: completed orders and their revenue beside
-- the requests and server errors of that hour (0 orders when none), and the Pearson
-- correlation of orders and errors per hour over the whole window (null when either
-- is constant).
with orders as (
  select hour, count(distinct order_id) as orders, sum(amount) as revenue
  from {{ ref('int_completed_lines') }}
  group by hour
), joined as (
  select r.hour, coalesce(o.orders, 0) as orders, coalesce(o.revenue, 0) as revenue,
         r.requests, r.errors, r.errors / r.requests as error_rate,
         r.checkout_requests, r.checkout_errors
  from {{ ref('int_requests_hourly') }} r
  left join orders o using (hour)
)
select *, corr(orders, errors) over () as orders_errors_correlation
from joined
order by hour
