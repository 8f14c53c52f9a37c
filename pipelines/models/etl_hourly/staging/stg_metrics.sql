-- Per-minute service metrics of the window, with the UTC hour.
select measured_at, date_trunc('hour', measured_at) as hour, service, requests,
       cpu_pct::double as cpu_pct, memory_mb, queue_depth
from {{ source('hourly_service_metrics') }}
