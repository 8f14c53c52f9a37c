-- Requests that passed validation (malformed rows are in hourly_requests_quarantine),
-- with the UTC hour and whether the server failed (5xx).
select request_id, occurred_at, date_trunc('hour', occurred_at) as hour, service, route,
       status, latency_ms, customer_id, status >= 500 as is_error
from {{ source('hourly_requests_clean') }}
