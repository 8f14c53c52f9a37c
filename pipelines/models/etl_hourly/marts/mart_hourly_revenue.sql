-- Revenue of completed orders per hour and category.
select hour, category,
       count(distinct order_id) as orders,
       sum(quantity)::bigint as units,
       sum(amount) as revenue
from {{ ref('int_completed_lines') }}
group by hour, category
order by hour, category
