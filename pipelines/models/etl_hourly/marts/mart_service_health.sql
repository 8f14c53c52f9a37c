-- Per hour, service and route: requests, server errors, error rate and latency
-- (p50 and p95 by linear interpolation between the closest ranks, as quantile_cont).
select hour, service, route,
       count(*) as requests,
       count(*) filter (where is_error) as errors,
       count(*) filter (where is_error) / count(*) as error_rate,
       quantile_cont(latency_ms, 0.5) as p50_latency_ms,
       quantile_cont(latency_ms, 0.95) as p95_latency_ms
from {{ ref('stg_requests') }}
group by hour, service, route
order by hour, service, route
