-- Lines of completed orders (cancelled and returned orders earn nothing), in the hour
-- the order was placed.
select l.transaction_id, l.order_id, o.hour, l.category, l.quantity, l.amount
from {{ ref('stg_order_lines') }} l
join {{ ref('stg_orders') }} o using (order_id)
where o.status = 'completed'
