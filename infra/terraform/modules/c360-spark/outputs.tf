output "application_id" {
  description = "The EMR Serverless application's id (start-job-run --application-id)."
  value       = try(aws_emrserverless_application.this[0].id, null)
}

output "job_role_arn" {
  description = "The job run's execution role (start-job-run --execution-role-arn)."
  value       = try(aws_iam_role.job[0].arn, null)
}

output "job_driver" {
  description = "The linkage job's driver for start-job-run --job-driver: the same module make bench runs in local mode."
  value = jsonencode({
    sparkSubmit = {
      entryPoint = "s3://${var.batch_bucket}/code/spark_linkage.py"
      entryPointArguments = [
        "--input", "s3://${var.batch_bucket}/input/",
        "--output", "s3://${var.batch_bucket}/runs/latest/",
      ]
      sparkSubmitParameters = join(" ", [
        "--conf spark.archives=s3://${var.batch_bucket}/code/pic-spark-env.tar.gz#environment",
        "--conf spark.emr-serverless.driverEnv.PYSPARK_PYTHON=./environment/bin/python",
        "--conf spark.executorEnv.PYSPARK_PYTHON=./environment/bin/python",
        "--conf spark.jars=s3://${var.batch_bucket}/code/scala-udf-similarity-0.2.1_spark4.x.jar",
        "--conf spark.driver.cores=2 --conf spark.driver.memory=6g",
        "--conf spark.executor.cores=4 --conf spark.executor.memory=14g",
        "--conf spark.executor.instances=${var.executors}",
        "--conf spark.dynamicAllocation.enabled=false",
        "--conf spark.sql.shuffle.partitions=128",
      ])
    }
  })
}
