-- Order lines of the window with their article's category, and the UTC hour.
select transaction_id, order_id, article_id, category, quantity, amount,
       date_trunc('hour', created_at) as hour
from {{ source('hourly_order_lines') }}
