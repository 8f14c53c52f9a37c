terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}

provider "aws" {
  region = var.region

  # Every resource that takes tags gets these; each resource also sets them itself
  # (`tags = local.tags`), so the tagging does not depend on provider settings.
  default_tags {
    tags = local.tags
  }
}
