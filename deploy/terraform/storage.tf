# What the function keeps or reads: the secret (only with create_secret), app mode's incident
# table, and the failure queue of its asynchronous invocations.

# create_secret: a secret with a placeholder webhook, so that the module can run before anyone
# has the Slack side. Terraform writes the placeholder once and then ignores the value: the real
# one (aws secretsmanager put-secret-value) never enters Terraform's state.
resource "aws_secretsmanager_secret" "slack" {
  #checkov:skip=CKV2_AWS_57:a Slack webhook or bot token is rotated in Slack, not by a rotation Lambda; put the new value with put-secret-value (the function rereads it after SECRET_TTL_SECONDS)
  count       = var.create_secret ? 1 : 0
  name        = var.secret_name
  description = "alarm-to-slack: SLACK_HOOK_URL, or SLACK_BOT_TOKEN and SLACK_CHANNEL (docs/configuration.md)"
  kms_key_id  = var.kms_key_arn
  tags        = var.tags
}

resource "aws_secretsmanager_secret_version" "placeholder" {
  count         = var.create_secret ? 1 : 0
  secret_id     = aws_secretsmanager_secret.slack[0].id
  secret_string = jsonencode({ SLACK_HOOK_URL = "https://hooks.slack.com/services/REPLACE/WITH/YOURS" })

  lifecycle {
    ignore_changes = [secret_string]
  }
}

# App mode's incident threads: one item per alarm, closed ones deleted by TTL 30 days on
# (the function writes `expires`). On-demand: a few requests per alarm.
resource "aws_dynamodb_table" "incidents" {
  #checkov:skip=CKV_AWS_119:encrypted at rest with the AWS managed key, as the template's SSEEnabled; a customer managed key adds a key policy and cost for items that are alarm names and Slack thread ids
  #checkov:skip=CKV_AWS_28:the items are short-lived (closed incidents expire after 30 days); a lost table loses thread continuity only, which no restore would bring back in time
  count        = var.incident_table ? 1 : 0
  name         = "${var.function_name}-incidents"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "alarm"

  attribute {
    name = "alarm"
    type = "S"
  }

  ttl {
    attribute_name = "expires"
    enabled        = true
  }

  # As the template's SSEEnabled: true, the AWS managed key (aws/dynamodb).
  server_side_encryption {
    enabled = true
  }

  tags = var.tags
}

resource "aws_sqs_queue" "failures" {
  name                      = "${var.function_name}-failures"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}
