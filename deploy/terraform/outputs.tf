# The template's outputs, by their Terraform names (docs/deploy.md's table), and what the
# module adds: the ARNs, the subscriptions, the rules, the table.

output "function_name" {
  description = "Name of the function; make deploy FUNCTION=NAME ships a new build to it. Template: FunctionName."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the function: an alarm action, or another rule's target."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "ARN of the function's role."
  value       = aws_iam_role.this.arn
}

output "alarm_topic_arn" {
  description = "The topic the module created (null if none): set it as the alarm action (AlarmActions / OKActions) of the alarms to post. Template: AlarmTopicArn."
  value       = local.create_topic ? aws_sns_topic.alarms[0].arn : null
}

output "topic_subscription_arns" {
  description = "Subscription of each topic (keyed by topic ARN, \"created\" for the module's own), to the function or to the buffer queue."
  value = var.buffer_queue ? { for key, s in aws_sns_topic_subscription.buffer : key => s.arn } : {
    for key, s in aws_sns_topic_subscription.function : key => s.arn
  }
}

output "event_rule_arns" {
  description = "The EventBridge rule of each source that event_sources turned on."
  value       = { for source, rule in aws_cloudwatch_event_rule.source : source => rule.arn }
}

output "failure_queue_url" {
  description = "Events that failed after all retries; each message carries the error of the last attempt. Template: FailureQueueUrl."
  value       = aws_sqs_queue.failures.id
}

output "buffer_queue_url" {
  description = "buffer_queue's queue (null without it); its dead-letter queue holds the records that kept failing. Template: BufferQueueUrl."
  value       = var.buffer_queue ? aws_sqs_queue.buffer[0].id : null
}

output "function_url" {
  description = "enable_buttons: the Slack app's Interactivity Request URL (null without it). Template: FunctionUrl."
  value       = local.buttons_on ? aws_lambda_function_url.buttons[0].function_url : null
}

output "incident_table_name" {
  description = "incident_table: the DynamoDB table of the incident threads (null without it)."
  value       = var.incident_table ? aws_dynamodb_table.incidents[0].name : null
}

output "update_code" {
  description = "Ship a new build to this function without Terraform. Template: UpdateCode."
  value       = "make deploy FUNCTION=${aws_lambda_function.this.function_name} ARCH=${var.architecture}"
}
