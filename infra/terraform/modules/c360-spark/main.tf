# The whole city's identity resolution on EMR Serverless (ADR 0037): a Spark application that starts on a job
# run and stops when idle, and the job role that reads the batch bucket's input/ and code/ and writes runs/.
# The job itself (functions/citizen/spark_linkage.py) is submitted with `aws emr-serverless start-job-run`
# using the `job_driver` output: Terraform manages the application and its permissions, not each run.

data "aws_partition" "current" {
  count = var.create ? 1 : 0
}

locals {
  bucket_arn = "arn:${try(data.aws_partition.current[0].partition, "aws")}:s3:::${var.batch_bucket}"
}

resource "aws_emrserverless_application" "this" {
  count = var.create ? 1 : 0

  name          = var.name
  release_label = var.release_label
  type          = "spark"
  architecture  = "X86_64"

  maximum_capacity {
    cpu    = "${var.max_vcpu} vCPU"
    memory = "${var.max_memory_gb} GB"
  }

  auto_start_configuration {
    enabled = true
  }

  auto_stop_configuration {
    enabled              = true
    idle_timeout_minutes = 15 # billed per second while workers run: nothing kept warm between runs
  }

  dynamic "network_configuration" {
    for_each = length(var.subnet_ids) > 0 ? [1] : []

    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = var.security_group_ids
    }
  }

  tags = var.tags
}

data "aws_iam_policy_document" "assume" {
  count = var.create ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["emr-serverless.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [aws_emrserverless_application.this[0].arn]
    }
  }
}

resource "aws_iam_role" "job" {
  count = var.create ? 1 : 0

  name               = "${var.name}-job"
  assume_role_policy = data.aws_iam_policy_document.assume[0].json
  tags               = var.tags
}

data "aws_iam_policy_document" "job" {
  count = var.create ? 1 : 0

  statement {
    sid       = "ReadInputAndCode"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/input/*", "${local.bucket_arn}/code/*"]
  }

  statement {
    sid       = "WriteRuns"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${local.bucket_arn}/runs/*"]
  }

  statement {
    sid       = "ListBatchBucket"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "UseBatchKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "job" {
  count = var.create ? 1 : 0

  name   = "${var.name}-job"
  role   = aws_iam_role.job[0].id
  policy = data.aws_iam_policy_document.job[0].json
}
