# ECS Fargate: the web server behind the load balancer, `scheduler_count` schedulers,
# and one worker service per entry of `worker_queues`. All run the same image.

resource "aws_ecs_cluster" "updraft" {
  name = var.name
  tags = local.tags

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# Pulls the image, writes container logs, reads the secrets.
resource "aws_iam_role" "execution" {
  name_prefix        = "${var.name}-exec-"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "read_secrets" {
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [for secret in aws_secretsmanager_secret.updraft : secret.arn]
  }
}

resource "aws_iam_role_policy" "read_secrets" {
  name_prefix = "read-secrets-"
  role        = aws_iam_role.execution.id
  policy      = data.aws_iam_policy_document.read_secrets.json
}

# The role the containers run as: no AWS permissions of its own.
resource "aws_iam_role" "task" {
  name_prefix        = "${var.name}-task-"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = local.tags
}

locals {
  container_logs = {
    logDriver = "awslogs"
    options = {
      awslogs-group         = aws_cloudwatch_log_group.updraft.name
      awslogs-region        = var.region
      awslogs-stream-prefix = "updraft"
    }
  }
}

# The web server and the schedulers: they use the store and the shared task logs.
locals {
  server_roles = {
    webserver = {
      cpu    = var.web_cpu
      memory = var.web_memory
      container = {
        command      = ["webserver", "--host", "0.0.0.0", "--port", "8080"]
        portMappings = [{ containerPort = 8080, protocol = "tcp" }]
        environment  = concat(local.common_environment, [{ name = "UPDRAFT_TRUST_PROXY", value = "true" }])
        secrets      = local.store_secrets
        stopTimeout  = 30
      }
    }
    scheduler = {
      cpu    = var.scheduler_cpu
      memory = var.scheduler_memory
      container = {
        # HTTP on the loopback only, for the health check.
        command      = ["scheduler", "--host", "127.0.0.1", "--port", "8080"]
        portMappings = []
        environment  = local.scheduler_environment
        secrets = concat(local.store_secrets, [
          { name = "UPDRAFT_QUEUE_SECRET", valueFrom = aws_secretsmanager_secret.updraft["queue-secret"].arn },
        ])
        stopTimeout = 30
      }
    }
  }
}

resource "aws_ecs_task_definition" "server" {
  for_each                 = local.server_roles
  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  tags                     = local.tags

  volume {
    name = local.logs_volume
    efs_volume_configuration {
      file_system_id     = aws_efs_file_system.logs.id
      transit_encryption = "ENABLED"
      authorization_config {
        access_point_id = aws_efs_access_point.logs.id
      }
    }
  }

  container_definitions = jsonencode([merge(each.value.container, {
    name        = each.key
    image       = var.image
    essential   = true
    mountPoints = [{ sourceVolume = local.logs_volume, containerPath = "${local.home}/logs" }]
    healthCheck = {
      command     = ["CMD", "node", "-e", local.http_health]
      interval    = 15
      timeout     = 5
      retries     = 3
      startPeriod = 60
    }
    logConfiguration = local.container_logs
  })])
}

# A one-off task for `updraft db migrate` before rolling out a new image (docs/deploy.md).
resource "aws_ecs_task_definition" "migrate" {
  family                   = "${var.name}-migrate"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  tags                     = local.tags

  container_definitions = jsonencode([{
    name             = "migrate"
    image            = var.image
    essential        = true
    command          = ["db", "migrate"]
    environment      = local.common_environment
    secrets          = local.store_secrets
    logConfiguration = local.container_logs
  }])
}

resource "aws_ecs_task_definition" "worker" {
  for_each                 = var.worker_queues
  family                   = "${var.name}-worker-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  tags                     = local.tags

  container_definitions = jsonencode([{
    name      = "worker"
    image     = var.image
    essential = true
    command = [
      "worker", "--queues", each.value.queues, "--concurrency", tostring(each.value.concurrency),
    ]
    # Workers never connect to the metadata store: Redis only, no queue secret.
    environment = [
      { name = "UPDRAFT_QUEUE_PREFIX", value = var.name },
      { name = "UPDRAFT_LOG_LEVEL", value = "info" },
    ]
    secrets = [
      { name = "UPDRAFT_REDIS_URL", valueFrom = aws_secretsmanager_secret.updraft["redis-url"].arn },
    ]
    healthCheck = {
      command     = ["CMD-SHELL", "test $(( $(date +%s) - $(stat -c %Y ${local.home}/worker.alive) )) -lt 30"]
      interval    = 15
      timeout     = 5
      retries     = 3
      startPeriod = 30
    }
    # SIGTERM: running attempts get 25 s to finish before they are reported lost.
    stopTimeout      = 40
    logConfiguration = local.container_logs
  }])
}

resource "aws_ecs_service" "webserver" {
  name                    = "${var.name}-webserver"
  cluster                 = aws_ecs_cluster.updraft.id
  task_definition         = aws_ecs_task_definition.server["webserver"].arn
  desired_count           = 1
  launch_type             = "FARGATE"
  enable_ecs_managed_tags = true
  propagate_tags          = "SERVICE"
  tags                    = local.tags

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.app.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.webserver.arn
    container_name   = "webserver"
    container_port   = 8080
  }

  depends_on = [aws_lb_listener.https]
}

resource "aws_ecs_service" "scheduler" {
  name                    = "${var.name}-scheduler"
  cluster                 = aws_ecs_cluster.updraft.id
  task_definition         = aws_ecs_task_definition.server["scheduler"].arn
  desired_count           = var.scheduler_count
  launch_type             = "FARGATE"
  enable_ecs_managed_tags = true
  propagate_tags          = "SERVICE"
  tags                    = local.tags

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.app.id]
    assign_public_ip = false
  }
}

resource "aws_ecs_service" "worker" {
  for_each                = var.worker_queues
  name                    = "${var.name}-worker-${each.key}"
  cluster                 = aws_ecs_cluster.updraft.id
  task_definition         = aws_ecs_task_definition.worker[each.key].arn
  desired_count           = each.value.count
  launch_type             = "FARGATE"
  enable_ecs_managed_tags = true
  propagate_tags          = "SERVICE"
  tags                    = local.tags

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.app.id]
    assign_public_ip = false
  }
}
