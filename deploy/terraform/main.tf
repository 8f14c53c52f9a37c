# Updraft on AWS: RDS PostgreSQL (metadata store), ElastiCache Redis (queues), and ECS
# Fargate services for the web server, the schedulers and the workers. See
# docs/deploy.md for the variables, the roll-out and what happens on each failure.

locals {
  # owner, env and cost-center win over extra_tags.
  tags = merge(var.extra_tags, {
    owner         = var.owner
    env           = var.env
    "cost-center" = var.cost_center
    app           = "updraft"
  })

  home = "/var/lib/updraft"

  # Environment shared by the web server and the schedulers (workers get less: they
  # never connect to the metadata store).
  common_environment = [
    { name = "UPDRAFT_EXECUTOR", value = "queue" },
    { name = "UPDRAFT_QUEUE_PREFIX", value = var.name },
    { name = "UPDRAFT_LOG_LEVEL", value = "info" },
  ]

  scheduler_environment = concat(local.common_environment, [
    { name = "UPDRAFT_QUEUE_LEASE_MS", value = tostring(var.lease_ms) },
    {
      name  = "UPDRAFT_QUEUE_CONCURRENCY"
      value = join(",", [for queue, limit in var.queue_concurrency : "${queue}=${limit}"])
    },
  ])

  store_secrets = [
    { name = "UPDRAFT_DATABASE_URL", valueFrom = aws_secretsmanager_secret.updraft["database-url"].arn },
    { name = "UPDRAFT_REDIS_URL", valueFrom = aws_secretsmanager_secret.updraft["redis-url"].arn },
  ]

  # The shared file system of task logs, mounted at <home>/logs by the web server and
  # the schedulers.
  logs_volume = "task-logs"

  http_health = "fetch('http://127.0.0.1:8080/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
}

resource "aws_cloudwatch_log_group" "updraft" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

# ---- secrets -------------------------------------------------------------------------

resource "random_password" "db" {
  length  = 40
  special = false
}

resource "random_password" "redis" {
  length  = 48
  special = false
}

resource "random_password" "queue_secret" {
  length  = 64
  special = false
}

locals {
  # The secrets of the deployment, by name; the queue secret is given to schedulers only.
  secret_values = {
    database-url = "postgres://updraft:${random_password.db.result}@${aws_db_instance.store.endpoint}/updraft?sslmode=require"
    redis-url    = "rediss://:${random_password.redis.result}@${aws_elasticache_replication_group.queues.primary_endpoint_address}:6379"
    queue-secret = random_password.queue_secret.result
  }
  secret_descriptions = {
    database-url = "UPDRAFT_DATABASE_URL"
    redis-url    = "UPDRAFT_REDIS_URL"
    queue-secret = "UPDRAFT_QUEUE_SECRET (signs the per-attempt tokens; schedulers only)"
  }
}

resource "aws_secretsmanager_secret" "updraft" {
  for_each    = local.secret_descriptions
  name_prefix = "${var.name}-${each.key}-"
  description = "${each.value} of ${var.name}"
  tags        = local.tags
}

resource "aws_secretsmanager_secret_version" "updraft" {
  for_each      = local.secret_descriptions
  secret_id     = aws_secretsmanager_secret.updraft[each.key].id
  secret_string = local.secret_values[each.key]
}
