# App mode with everything on: the module creates the secret (a placeholder, replaced with the
# bot token, channel and signing secret afterwards), the incident table, the buttons' Function
# URL with mutes as CloudWatch mute rules, metric graphs as images, the buffer queue in front
# of two existing topics, and EventBridge rules for GuardDuty, Health and Security Hub. The
# package is a released arm64 zip, checked against its SHA256SUMS line.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.28, < 7.0"
    }
  }
}

variable "release_version" {
  type        = string
  description = "The release to deploy, as in its file names (alarm-to-slack-VERSION-arm64.zip)."
}

variable "release_base_url" {
  type        = string
  description = "Where the release's files are, without a trailing slash."
}

variable "package_sha256" {
  type        = string
  description = "The arm64 zip's SHA-256 from the release's SHA256SUMS."
}

variable "topic_arns" {
  type        = list(string)
  description = "The SNS topics the alarms already notify."
}

module "alarm_to_slack" {
  source = "../.."

  package_url    = "${var.release_base_url}/alarm-to-slack-${var.release_version}-arm64.zip"
  package_sha256 = var.package_sha256
  architecture   = "arm64"

  create_secret = true
  secret_name   = "slack/alarm-to-slack"

  incident_table  = true
  enable_buttons  = true
  mute_cloudwatch = true
  metric_graph    = "image"

  topic_arns   = var.topic_arns
  create_topic = false
  buffer_queue = true

  event_sources = {
    "aws.guardduty"   = true
    "aws.health"      = true
    "aws.securityhub" = true
  }

  log_format           = "JSON"
  log_level            = "INFO"
  reserved_concurrency = 4
  tags                 = { service = "alarm-to-slack" }
}

output "function_url" {
  description = "Paste into the Slack app's Interactivity Request URL (docs/app-mode.md, Buttons)."
  value       = module.alarm_to_slack.function_url
}

output "secret_to_fill" {
  description = "Put SLACK_BOT_TOKEN, SLACK_CHANNEL and SLACK_SIGNING_SECRET here (aws secretsmanager put-secret-value)."
  value       = "slack/alarm-to-slack"
}

output "incident_table_name" {
  description = "The incident threads' table."
  value       = module.alarm_to_slack.incident_table_name
}

output "buffer_queue_url" {
  description = "The buffer between the topics and the function."
  value       = module.alarm_to_slack.buffer_queue_url
}
