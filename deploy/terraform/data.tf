# The metadata store (RDS PostgreSQL, Multi-AZ, encrypted, point-in-time recovery), the
# queue Redis (ElastiCache, Multi-AZ with automatic failover, noeviction, TLS and AUTH)
# and the shared file system for task logs (EFS).

resource "aws_db_subnet_group" "store" {
  name_prefix = "${var.name}-"
  subnet_ids  = var.private_subnet_ids
  tags        = local.tags
}

resource "aws_db_instance" "store" {
  identifier_prefix               = "${var.name}-"
  engine                          = "postgres"
  engine_version                  = "16"
  instance_class                  = var.db_instance_class
  allocated_storage               = var.db_allocated_storage_gb
  max_allocated_storage           = var.db_allocated_storage_gb * 10
  storage_encrypted               = true
  db_name                         = "updraft"
  username                        = "updraft"
  password                        = random_password.db.result
  multi_az                        = true
  db_subnet_group_name            = aws_db_subnet_group.store.name
  vpc_security_group_ids          = [aws_security_group.data.id]
  backup_retention_period         = var.db_backup_retention_days
  deletion_protection             = true
  skip_final_snapshot             = false
  final_snapshot_identifier       = "${var.name}-final"
  auto_minor_version_upgrade      = true
  performance_insights_enabled    = true
  enabled_cloudwatch_logs_exports = ["postgresql"]
  tags                            = local.tags
}

resource "aws_elasticache_subnet_group" "queues" {
  name       = "${var.name}-queues"
  subnet_ids = var.private_subnet_ids
  tags       = local.tags
}

resource "aws_elasticache_parameter_group" "queues" {
  name        = "${var.name}-queues"
  family      = "redis7"
  description = "Updraft queues: never evict keys (Updraft refuses any other policy)"
  tags        = local.tags

  parameter {
    name  = "maxmemory-policy"
    value = "noeviction"
  }
}

resource "aws_elasticache_replication_group" "queues" {
  replication_group_id       = "${var.name}-queues"
  description                = "Updraft queues (BullMQ)"
  engine                     = "redis"
  engine_version             = "7.1"
  node_type                  = var.redis_node_type
  num_cache_clusters         = 2
  automatic_failover_enabled = true
  multi_az_enabled           = true
  parameter_group_name       = aws_elasticache_parameter_group.queues.name
  subnet_group_name          = aws_elasticache_subnet_group.queues.name
  security_group_ids         = [aws_security_group.data.id]
  at_rest_encryption_enabled = true
  transit_encryption_enabled = true
  auth_token                 = random_password.redis.result
  snapshot_retention_limit   = 1
  tags                       = local.tags
}

resource "aws_efs_file_system" "logs" {
  creation_token = "${var.name}-task-logs"
  encrypted      = true
  tags           = merge(local.tags, { Name = "${var.name}-task-logs" })
}

resource "aws_efs_mount_target" "logs" {
  for_each        = toset(var.private_subnet_ids)
  file_system_id  = aws_efs_file_system.logs.id
  subnet_id       = each.value
  security_groups = [aws_security_group.data.id]
}

# Task logs are written as uid/gid 1000, the image's `node` user.
resource "aws_efs_access_point" "logs" {
  file_system_id = aws_efs_file_system.logs.id
  tags           = local.tags

  posix_user {
    uid = 1000
    gid = 1000
  }

  root_directory {
    path = "/logs"
    creation_info {
      owner_uid   = 1000
      owner_gid   = 1000
      permissions = "0750"
    }
  }
}
