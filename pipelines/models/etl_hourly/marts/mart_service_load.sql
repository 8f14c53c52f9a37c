-- Per hour and service, what the metrics agent saw: minutes reported (60 without gaps),
-- mean and peak CPU, peak queue depth, and the requests it counted.
select hour, service,
       count(*) as minutes_reported,
       avg(cpu_pct) as avg_cpu_pct,
       max(cpu_pct) as max_cpu_pct,
       max(queue_depth) as max_queue_depth,
       sum(requests)::bigint as requests_counted
from {{ ref('stg_metrics') }}
group by hour, service
order by hour, service
