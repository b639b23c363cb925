# Plan-only tests with a mocked AWS provider: they run offline and create nothing.
mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  batch_bucket = "pic-test-c360-batch"
}

run "a_spark_application_that_stops_when_idle" {
  command = plan

  assert {
    condition     = aws_emrserverless_application.this[0].type == "spark" && one(aws_emrserverless_application.this[0].auto_stop_configuration).enabled
    error_message = "The application must be Spark and stop when idle (billed per second while workers run)."
  }

  assert {
    condition     = one(aws_emrserverless_application.this[0].maximum_capacity).cpu == "32 vCPU"
    error_message = "The application's ceiling must follow the sizing (docs/benchmarks.md)."
  }
}

run "the_job_role_reads_input_and_writes_runs_only" {
  command = plan

  assert {
    condition     = length(data.aws_iam_policy_document.job[0].statement) == 3
    error_message = "Without a KMS key: read input/ and code/, write runs/, list the bucket."
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition     = length(aws_emrserverless_application.this) == 0 && length(aws_iam_role.job) == 0
    error_message = "create = false must create nothing."
  }
}
