-- Orders placed in the window, with the UTC hour they fall in.
select order_id, customer_id, ordered_at, date_trunc('hour', ordered_at) as hour,
       status, channel, total_amount
from {{ source('hourly_orders') }}
