-- Requests and server errors per hour (every service), the checkout service's apart.
select hour,
       count(*) as requests,
       count(*) filter (where is_error) as errors,
       count(*) filter (where service = 'checkout') as checkout_requests,
       count(*) filter (where service = 'checkout' and is_error) as checkout_errors
from {{ ref('stg_requests') }}
group by hour
