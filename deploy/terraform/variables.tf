# Every variable has a description: tests/terraform-check.py fails on one without. Each of
# template.yaml's parameters has its variable here (the table in docs/deploy.md, checked by
# the same script); the rest are what a module adds: the package, topics as a list, the
# EventBridge sources, tags.

# --- The package ---------------------------------------------------------------------------

variable "package_file" {
  type        = string
  default     = null
  description = "Path of bootstrap.zip on the machine that runs Terraform: `make zip` leaves it in the repository's root, or a release's alarm-to-slack-VERSION-ARCH.zip once checked against its SHA256SUMS. Set this or package_url."
}

variable "package_url" {
  type        = string
  default     = null
  description = "URL of a released zip (alarm-to-slack-VERSION-ARCH.zip). Downloaded with curl at apply time into the root module's .terraform/ and checked against package_sha256 with sha256sum before Lambda gets it. Set this or package_file."
}

variable "package_sha256" {
  type        = string
  default     = null
  description = "With package_url: the zip's SHA-256 in hex, its line in the release's SHA256SUMS. A download that does not match stops the apply."

  validation {
    condition     = var.package_sha256 == null || can(regex("^[0-9a-f]{64}$", var.package_sha256))
    error_message = "package_sha256 must be 64 lowercase hex digits (sha256sum's output)."
  }
}

# --- The secret ----------------------------------------------------------------------------

variable "secret_arn" {
  type        = string
  default     = null
  description = "Full ARN of the Secrets Manager secret holding SLACK_HOOK_URL (webhook) or SLACK_BOT_TOKEN and SLACK_CHANNEL (app mode). Leave null with create_secret = true to create one. Template: SecretArn."

  validation {
    condition     = var.secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.secret_arn))
    error_message = "secret_arn must be a secret ARN, arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-SUFFIX."
  }
}

variable "create_secret" {
  type        = bool
  default     = false
  description = "Create the secret (named secret_name) with a placeholder webhook, instead of using secret_arn. Put the real value in afterwards (aws secretsmanager put-secret-value); Terraform then leaves the value alone, so it never sits in Terraform's state past the placeholder."
}

variable "secret_name" {
  type        = string
  default     = "slack/alarm-to-slack"
  description = "Name of the secret create_secret creates."
}

variable "kms_key_arn" {
  type        = string
  default     = null
  description = "Customer managed KMS key that encrypts the secret (and the created one, with create_secret). Null for the AWS managed key: the role then gets no KMS permission at all. Template: KmsKeyArn."

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN, arn:aws:kms:REGION:ACCOUNT:key/ID."
  }
}

# --- The function --------------------------------------------------------------------------

variable "function_name" {
  type        = string
  default     = "alarm-to-slack"
  description = "Name of the Lambda function and of its log group, /aws/lambda/NAME; also prefixes the queues, the topic and the rules this module creates. Template: FunctionName."

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name: 1 to 64 letters, digits, - or _."
  }
}

variable "architecture" {
  type        = string
  default     = "x86_64"
  description = "x86_64 or arm64; must match the package (make zip ARCH=arm64, or the release's -arm64.zip). Template: Architecture."

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "memory_size" {
  type        = number
  default     = 128
  description = "Memory of the function in MB. 128 (the template's fixed value) is plenty: the bootstrap's resident set is a few MB; more memory only buys more CPU for TLS handshakes."

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "reserved_concurrency" {
  type        = number
  default     = 2
  description = "At most this many copies run at once, so an alarm storm cannot flood Slack; Lambda queues and retries throttled asynchronous deliveries. Template: ReservedConcurrency."

  validation {
    condition     = var.reserved_concurrency >= 1 && var.reserved_concurrency <= 20
    error_message = "reserved_concurrency must be between 1 and 20."
  }
}

variable "maximum_retry_attempts" {
  type        = number
  default     = 2
  description = "Lambda's retries of an asynchronous event whose invocation failed, before it goes to the failure queue. Template: MaximumRetryAttempts."

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 2
    error_message = "maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "maximum_event_age_in_seconds" {
  type        = number
  default     = 3600
  description = "An event still not delivered after this long goes to the failure queue. Template: MaximumEventAgeInSeconds."

  validation {
    condition     = var.maximum_event_age_in_seconds >= 60 && var.maximum_event_age_in_seconds <= 21600
    error_message = "maximum_event_age_in_seconds must be between 60 and 21600."
  }
}

variable "secret_ttl_seconds" {
  type        = number
  default     = 300
  description = "SECRET_TTL_SECONDS: how long a warm function keeps the secret in memory; 0 reads it on every invocation. Template: SecretTtlSeconds."

  validation {
    condition     = var.secret_ttl_seconds >= 0
    error_message = "secret_ttl_seconds must not be negative."
  }
}

variable "log_format" {
  type        = string
  default     = "Text"
  description = "Text lines, or JSON (one object per line with level, requestId and fields). Template: LogFormat."

  validation {
    condition     = contains(["Text", "JSON"], var.log_format)
    error_message = "log_format must be Text or JSON."
  }
}

variable "log_level" {
  type        = string
  default     = "INFO"
  description = "Lines below this level are not written; applies with log_format = JSON. Template: LogLevel."

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.log_level)
    error_message = "log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

variable "log_retention_in_days" {
  type        = number
  default     = 30
  description = "Retention of the function's log group. Template: LogRetentionInDays."

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of CloudWatch Logs' retention periods (1, 3, 5, 7, 14, 30, ... 3653)."
  }
}

# --- App mode and buttons ------------------------------------------------------------------

variable "incident_table" {
  type        = bool
  default     = false
  description = "App mode (the secret holds SLACK_BOT_TOKEN): create the DynamoDB table that keeps each alarm's incident thread (on-demand, TTL on expires, encrypted at rest) and set INCIDENT_TABLE; the role gets GetItem and UpdateItem on it alone. Template: IncidentTable."
}

variable "enable_buttons" {
  type        = bool
  default     = false
  description = "Needs incident_table = true (refused otherwise) and SLACK_SIGNING_SECRET in the secret: a public Function URL (authorization NONE; the function checks Slack's signature on every request) for the incident buttons' clicks, with the two statements its policy needs. The function_url output is the Slack app's Interactivity Request URL. Template: EnableButtons."
}

variable "mute_cloudwatch" {
  type        = bool
  default     = false
  description = "With enable_buttons: MUTE_CLOUDWATCH, a timed Mute also becomes a CloudWatch alarm mute rule; grants PutAlarmMuteRule and DeleteAlarmMuteRule on the function's own rules and PutAlarmMuteRule on the account's alarms. Template: MuteCloudWatch."
}

variable "metric_graph" {
  type        = string
  default     = "off"
  description = "METRIC_GRAPH: off, sparkline (grants cloudwatch:GetMetricData) or image (also cloudwatch:GetMetricWidgetImage). Template: MetricGraph."

  validation {
    condition     = contains(["off", "sparkline", "image"], var.metric_graph)
    error_message = "metric_graph must be off, sparkline or image."
  }
}

# --- What invokes it -----------------------------------------------------------------------

variable "topic_arns" {
  type        = list(string)
  default     = []
  description = "SNS topics to subscribe the function to (directly, or through the buffer queue). Template: AlarmTopicArn, one topic there."

  validation {
    condition     = alltrue([for arn in var.topic_arns : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:.+$", arn))])
    error_message = "topic_arns must hold SNS topic ARNs."
  }
}

variable "create_topic" {
  type        = bool
  default     = null
  description = "Create an SNS topic for alarm actions and subscribe to it too (the alarm_topic_arn output). Null: create one only when topic_arns is empty, as the template does when AlarmTopicArn is empty."
}

variable "buffer_queue" {
  type        = bool
  default     = false
  description = "Put an SQS queue (with a dead-letter queue after 5 receives) between the topics and the function: batches of up to 10 over up to 5 s, ReportBatchItemFailures. For storm-prone accounts. Template: BufferQueue."
}

variable "event_sources" {
  type        = map(bool)
  default     = {}
  description = "EventBridge sources whose events invoke the function, source => on, e.g. { \"aws.guardduty\" = true, \"aws.health\" = true, \"aws.securityhub\" = false }: one rule per source that is on, matching every event of that source, on event_bus_name. \"aws.cloudwatch\" brings alarm state changes without SNS. Not in the template."

  validation {
    condition     = alltrue([for source in keys(var.event_sources) : can(regex("^[a-zA-Z0-9._-]{1,256}$", source))])
    error_message = "event_sources keys must be event sources such as aws.guardduty."
  }
}

variable "event_bus_name" {
  type        = string
  default     = "default"
  description = "Event bus (name or ARN) of the event_sources rules: default, or a central bus that other accounts forward to (examples/organization). Not in the template."
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags for every resource that takes them."
}
