# Inputs of the Updraft deployment. Every variable is documented here and in
# docs/deploy.md; terraform.tfvars.example shows a complete set.

variable "region" {
  description = "AWS region to deploy into, e.g. eu-central-1."
  type        = string
}

variable "name" {
  description = "Name prefix of every resource (letters, digits and hyphens), e.g. updraft-prod."
  type        = string
  default     = "updraft"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "owner" {
  description = "Team or person responsible for the deployment (tag `owner`)."
  type        = string
}

variable "env" {
  description = "Environment name (tag `env`), e.g. prod, staging."
  type        = string
}

variable "cost_center" {
  description = "Cost center the resources are billed to (tag `cost-center`)."
  type        = string
}

variable "extra_tags" {
  description = "More tags for every resource; owner, env and cost-center cannot be overridden."
  type        = map(string)
  default     = {}
}

variable "vpc_id" {
  description = "VPC to deploy into."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets (at least two, in different zones) for the database, Redis and the containers."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "private_subnet_ids needs at least two subnets in different availability zones."
  }
}

variable "public_subnet_ids" {
  description = "Public subnets (at least two) for the load balancer of the web server."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_ids) >= 2
    error_message = "public_subnet_ids needs at least two subnets in different availability zones."
  }
}

variable "allowed_cidr_blocks" {
  description = "CIDR blocks allowed to reach the web server's load balancer (HTTPS)."
  type        = list(string)
}

variable "certificate_arn" {
  description = "ACM certificate of the web server's host name, for the HTTPS listener."
  type        = string
}

variable "image" {
  description = "Container image of Updraft (the repository's Dockerfile, with your pipelines), e.g. 123456789012.dkr.ecr.eu-central-1.amazonaws.com/updraft:1.4.0."
  type        = string
}

variable "scheduler_count" {
  description = "Scheduler tasks; two or more for high availability."
  type        = number
  default     = 2

  validation {
    condition     = var.scheduler_count >= 1
    error_message = "scheduler_count must be at least 1."
  }
}

variable "worker_queues" {
  description = "Worker services by name: the queues each serves (`cpu,gpu=1` syntax of `updraft worker --queues`), its task count, processes per task (`--concurrency`), and CPU (units) and memory (MiB) per task."
  type = map(object({
    queues      = string
    count       = number
    concurrency = number
    cpu         = number
    memory      = number
  }))
  default = {
    default = { queues = "default", count = 2, concurrency = 2, cpu = 1024, memory = 2048 }
  }
}

variable "queue_concurrency" {
  description = "Cluster-wide limits of attempts at once per queue (UPDRAFT_QUEUE_CONCURRENCY), e.g. { gpu = 2 }."
  type        = map(number)
  default     = {}
}

variable "lease_ms" {
  description = "A claimed attempt with no report from its worker for this long is lost and retried (UPDRAFT_QUEUE_LEASE_MS); detection takes at most 1.25 times this."
  type        = number
  default     = 20000
}

variable "db_instance_class" {
  description = "RDS instance class of the metadata store."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_allocated_storage_gb" {
  description = "Initial storage of the metadata store in GiB (it grows automatically up to 10 times this)."
  type        = number
  default     = 50
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery) of the metadata store."
  type        = number
  default     = 14
}

variable "redis_node_type" {
  description = "ElastiCache node type of the queue Redis."
  type        = string
  default     = "cache.t4g.small"
}

variable "web_cpu" {
  description = "CPU units (1024 = one vCPU) of the web server task."
  type        = number
  default     = 512
}

variable "web_memory" {
  description = "Memory (MiB) of the web server task."
  type        = number
  default     = 1024
}

variable "scheduler_cpu" {
  description = "CPU units of each scheduler task."
  type        = number
  default     = 1024
}

variable "scheduler_memory" {
  description = "Memory (MiB) of each scheduler task."
  type        = number
  default     = 2048
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the containers' own logs (task logs live on the shared file system)."
  type        = number
  default     = 30
}
