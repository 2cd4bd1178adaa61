# alarm-to-slack as a Terraform/OpenTofu module: the resources of template.yaml, named as
# tests/terraform-check.py maps them (CloudFormation type -> Terraform type), plus the
# EventBridge rules and the optional secret that only the module offers. This file: the
# function, its package, its log group and its asynchronous invoke configuration. iam.tf holds
# the role, storage.tf the secret, the table and the failure queue, sources.tf what invokes the
# function, buttons.tf the Function URL.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  secret_arn = var.create_secret ? aws_secretsmanager_secret.slack[0].arn : var.secret_arn

  # As the template's conditions: the URL only with the table (whatever the precondition below
  # says), the mute rules only with the URL.
  buttons_on = var.enable_buttons && var.incident_table
  mute_rules = local.buttons_on && var.mute_cloudwatch

  # The function's environment, one key per variable the template sets (tests/terraform-check.py
  # compares the names); a null value leaves the variable out, as the template's AWS::NoValue.
  environment = {
    SecretId           = local.secret_arn
    SECRET_TTL_SECONDS = tostring(var.secret_ttl_seconds)
    INCIDENT_TABLE     = var.incident_table ? aws_dynamodb_table.incidents[0].name : null
    METRIC_GRAPH       = var.metric_graph
    MUTE_CLOUDWATCH    = local.mute_rules ? "true" : null
  }

  # A released zip goes to a file named after its checksum: a new release is a new file name,
  # which is what makes the provider ship the new code (no source_code_hash is known before the
  # download, and Terraform cannot turn SHA256SUMS' hex into the base64 that hash wants).
  package_download = var.package_url == null ? null : "${path.root}/.terraform/alarm-to-slack-${var.package_sha256}.zip"
  package_path     = var.package_file != null ? var.package_file : local.package_download
}

# package_url: curl fetches the release, sha256sum checks it before it takes the name Lambda
# reads, so a tampered or truncated download stops the apply instead of being deployed. Needs
# curl and sha256sum where Terraform runs. A new URL or checksum downloads again.
resource "terraform_data" "package" {
  count            = var.package_url == null ? 0 : 1
  triggers_replace = [var.package_url, var.package_sha256]

  provisioner "local-exec" {
    command = "curl -fsSL --proto '=https' -o \"$DEST.part\" \"$URL\" && echo \"$SHA  $DEST.part\" | sha256sum -c --quiet - && mv \"$DEST.part\" \"$DEST\""
    environment = {
      URL  = var.package_url
      SHA  = var.package_sha256
      DEST = local.package_download
    }
  }
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts every group at rest; the lines hold no secret (the bootstrap redacts credentials), and a customer managed key would need a key policy for logs that is the user's to own
  #checkov:skip=CKV_AWS_338:retention is log_retention_in_days, 30 days by default as in the template; a year of these lines is a choice, not a default
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_in_days
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:failed asynchronous events go to the failure queue as an on-failure destination (aws_lambda_function_event_invoke_config), which also records the error; a DLQ would be a second, poorer copy
  #checkov:skip=CKV_AWS_117:the function calls Slack and public AWS endpoints only; inside a VPC it would need a NAT gateway and gain nothing
  #checkov:skip=CKV_AWS_272:the zip is checked against its SHA-256 (package_sha256) or built locally; a code-signing profile is not something this module can assume exists
  #checkov:skip=CKV_AWS_173:the environment holds no secret (the secret's ARN and settings); the secret itself stays in Secrets Manager
  #checkov:skip=CKV_AWS_50:the bootstrap emits no X-Ray segments, so active tracing would only add sampled empty traces and a permission
  function_name = var.function_name
  description   = "CloudWatch alarms from SNS to Slack"
  role          = aws_iam_role.this.arn
  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = [var.architecture]
  memory_size   = var.memory_size
  # As the template: a post to Slack is bounded well below this (docs/operations.md).
  timeout                        = 10
  reserved_concurrent_executions = var.reserved_concurrency

  filename         = local.package_path
  source_code_hash = var.package_file != null ? filebase64sha256(var.package_file) : null

  logging_config {
    log_format            = var.log_format
    log_group             = aws_cloudwatch_log_group.this.name
    application_log_level = var.log_format == "JSON" ? var.log_level : null
  }

  environment {
    variables = { for name, value in local.environment : name => value if value != null }
  }

  tags = var.tags

  # The role's policies first: a function that starts before it may write its log group or read
  # its secret fails its first invocations.
  depends_on = [
    aws_iam_role_policy.read_slack_secret,
    aws_iam_role_policy.write_own_logs,
    terraform_data.package,
  ]

  lifecycle {
    precondition {
      condition     = (var.secret_arn != null) != var.create_secret
      error_message = "Set secret_arn, or create_secret = true to create the secret: one of the two."
    }
    precondition {
      condition     = (var.package_file != null) != (var.package_url != null)
      error_message = "Set package_file (a local bootstrap.zip) or package_url (a released zip): one of the two."
    }
    precondition {
      condition     = var.package_url == null || var.package_sha256 != null
      error_message = "package_url needs package_sha256, the zip's line in the release's SHA256SUMS."
    }
    # The template's rule ButtonsNeedIncidentTable: without the table a click has nothing to
    # change, so a public URL would only be an endpoint to knock on.
    precondition {
      condition     = !var.enable_buttons || var.incident_table
      error_message = "enable_buttons = true needs incident_table = true (the buttons change the incidents kept there)."
    }
  }
}

# Events that still fail after Lambda's retries land in the failure queue with the error of the
# last attempt, instead of being dropped.
resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  qualifier                    = "$LATEST"
  maximum_retry_attempts       = var.maximum_retry_attempts
  maximum_event_age_in_seconds = var.maximum_event_age_in_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.failures.arn
    }
  }

  # Lambda checks that the role may send to the destination when the config is written.
  depends_on = [aws_iam_role_policy.send_failed_events]
}
