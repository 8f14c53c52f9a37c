output "web_url" {
  description = "Where the web UI and REST API answer (point your DNS name at the load balancer)."
  value       = "https://${aws_lb.web.dns_name}"
}

output "cluster_name" {
  description = "ECS cluster of the services."
  value       = aws_ecs_cluster.updraft.name
}

output "migrate_task_definition" {
  description = "Task definition to run once (`aws ecs run-task`) for `updraft db migrate` before a roll-out."
  value       = aws_ecs_task_definition.migrate.arn
}

output "database_endpoint" {
  description = "Endpoint of the metadata store (RDS PostgreSQL)."
  value       = aws_db_instance.store.endpoint
}

output "redis_endpoint" {
  description = "Primary endpoint of the queue Redis (ElastiCache)."
  value       = aws_elasticache_replication_group.queues.primary_endpoint_address
}

output "task_logs_file_system" {
  description = "EFS file system holding the task logs (back it up with AWS Backup if logs matter)."
  value       = aws_efs_file_system.logs.id
}
