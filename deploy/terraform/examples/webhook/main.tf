# The smallest setup: a webhook secret that exists already, a new SNS topic for the alarms'
# actions, and the zip that `make zip` leaves in the repository's root.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.28, < 7.0"
    }
  }
}

variable "secret_arn" {
  type        = string
  description = "Full ARN of the secret holding SLACK_HOOK_URL (aws secretsmanager describe-secret --secret-id slack/dev --query ARN --output text)."
}

module "alarm_to_slack" {
  source = "../.."

  package_file = "${path.root}/../../../../bootstrap.zip"
  secret_arn   = var.secret_arn
}

output "alarm_topic_arn" {
  description = "Set it as the alarm action (AlarmActions / OKActions) of the alarms to post."
  value       = module.alarm_to_slack.alarm_topic_arn
}
