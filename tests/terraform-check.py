"""deploy/terraform against template.yaml, offline: no terraform binary exists in our registries,
so every .tf file is parsed with python-hcl2 (a real HCL2 grammar) and template.yaml with
cfn-lint's CloudFormation-aware loader, and the two must agree on:

  - the function's environment variable names;
  - the role: per inline policy (same names), the IAM actions and the condition keys (with their
    operators), and the trust policy's;
  - the resource types, through RESOURCE_TYPES below (CloudFormation type -> Terraform types);
  - the parameters and outputs, through PARAMETERS and OUTPUTS below (the table in
    docs/deploy.md, which must name every variable and output);

and every variable and output, in the module and the examples, has a description; every
argument an example gives the module is one of its variables.

Then --self-test mutations (each a one-line edit of a module file, in memory) must each make the
check fail, so that a check that can no longer fail is noticed. Run by `make terraform-check`
with the pinned venv's python (python-hcl2 and cfn-lint)."""
import pathlib
import re
import sys

import hcl2
from cfnlint.decode import decode

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODULE = ROOT / "deploy" / "terraform"
TEMPLATE = ROOT / "template.yaml"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"

# What each template resource becomes. AWS::IAM::Role's inline Policies are aws_iam_role_policy
# resources; SAM's Function is a plain aws_lambda_function (no SAM in Terraform).
RESOURCE_TYPES = {
    "AWS::SNS::Topic": {"aws_sns_topic"},
    "AWS::SQS::Queue": {"aws_sqs_queue"},
    "AWS::DynamoDB::Table": {"aws_dynamodb_table"},
    "AWS::Logs::LogGroup": {"aws_cloudwatch_log_group"},
    "AWS::IAM::Role": {"aws_iam_role", "aws_iam_role_policy"},
    "AWS::Serverless::Function": {"aws_lambda_function"},
    "AWS::Lambda::EventInvokeConfig": {"aws_lambda_function_event_invoke_config"},
    "AWS::Lambda::Permission": {"aws_lambda_permission"},
    "AWS::Lambda::Url": {"aws_lambda_function_url"},
    "AWS::SNS::Subscription": {"aws_sns_topic_subscription"},
    "AWS::SQS::QueuePolicy": {"aws_sqs_queue_policy"},
    "AWS::Lambda::EventSourceMapping": {"aws_lambda_event_source_mapping"},
}
# Only the module has these, each for a reason: the optional secret (create_secret), the
# EventBridge sources (event_sources), and the release download (package_url).
MODULE_ONLY_TYPES = {
    "aws_secretsmanager_secret": "create_secret",
    "aws_secretsmanager_secret_version": "create_secret's placeholder value",
    "aws_cloudwatch_event_rule": "event_sources",
    "aws_cloudwatch_event_target": "event_sources",
    "terraform_data": "package_url's checked download",
}
DATA_TYPES = {"aws_iam_policy_document", "aws_partition", "aws_region", "aws_caller_identity"}

# Template parameter -> module variable (docs/deploy.md's table).
PARAMETERS = {
    "SecretArn": "secret_arn",
    "KmsKeyArn": "kms_key_arn",
    "AlarmTopicArn": "topic_arns",
    "FunctionName": "function_name",
    "Architecture": "architecture",
    "ReservedConcurrency": "reserved_concurrency",
    "MaximumRetryAttempts": "maximum_retry_attempts",
    "MaximumEventAgeInSeconds": "maximum_event_age_in_seconds",
    "SecretTtlSeconds": "secret_ttl_seconds",
    "LogFormat": "log_format",
    "LogLevel": "log_level",
    "IncidentTable": "incident_table",
    "EnableButtons": "enable_buttons",
    "BufferQueue": "buffer_queue",
    "MuteCloudWatch": "mute_cloudwatch",
    "MetricGraph": "metric_graph",
    "LogRetentionInDays": "log_retention_in_days",
}
MODULE_ONLY_VARIABLES = {"package_file", "package_url", "package_sha256", "create_secret", "secret_name",
                         "memory_size", "create_topic", "event_sources", "event_bus_name", "tags"}
# Template output -> module output.
OUTPUTS = {
    "FunctionName": "function_name",
    "AlarmTopicArn": "alarm_topic_arn",
    "FailureQueueUrl": "failure_queue_url",
    "BufferQueueUrl": "buffer_queue_url",
    "FunctionUrl": "function_url",
    "UpdateCode": "update_code",
}
MODULE_ONLY_OUTPUTS = {"function_arn", "role_arn", "topic_subscription_arns", "event_rule_arns",
                       "incident_table_name"}

ACTION = re.compile(r"\b[a-z0-9-]+:[A-Z][A-Za-z0-9]*\b")
TRUST = "(trust policy)"


def unquote(s):
    return s[1:-1] if isinstance(s, str) and len(s) >= 2 and s[0] == s[-1] == '"' else s


def blocks(parsed, kind):
    """(label1, label2, body) of every `kind "a" "b" {}` block; one-label blocks give b = None."""
    out = []
    for entry in parsed.get(kind, []):
        for a, inner in entry.items():
            if kind in ("resource", "data"):
                for b, body in inner.items():
                    out.append((unquote(a), unquote(b), body))
            else:
                out.append((unquote(a), None, inner))
    return out


def strings(value):
    """Every string inside a parsed value (expressions are strings too)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            if not k.startswith("__"):
                yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


# --- template.yaml ------------------------------------------------------------------------

def cfn_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from cfn_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from cfn_strings(v)


def cfn_statements(document):
    """A policy document's statements, through Fn::If's branches (AWS::NoValue dropped)."""
    def walk(node):
        if isinstance(node, list):
            for n in node:
                yield from walk(n)
        elif isinstance(node, dict):
            if "Fn::If" in node:
                for branch in node["Fn::If"][1:]:
                    yield from walk(branch)
            elif "Ref" in node:
                return
            else:
                yield node
    yield from walk(document.get("Statement", []))


def cfn_policies(node):
    """Inline policies, through Fn::If, as (name, document)."""
    if isinstance(node, list):
        for n in node:
            yield from cfn_policies(n)
    elif isinstance(node, dict):
        if "Fn::If" in node:
            for branch in node["Fn::If"][1:]:
                yield from cfn_policies(branch)
        elif "PolicyName" in node:
            yield node["PolicyName"], node["PolicyDocument"]


def cfn_grants(statements):
    actions, conditions = set(), set()
    for st in statements:
        actions |= {a for a in cfn_strings(st.get("Action", [])) if ACTION.fullmatch(a)}
        for op, keys in st.get("Condition", {}).items():
            for key in keys:
                conditions.add((op, key))
    return actions, conditions


def template_facts(template):
    res = template["Resources"]
    role = next(r for r in res.values() if r["Type"] == "AWS::IAM::Role")["Properties"]
    grants = {TRUST: cfn_grants(cfn_statements(role["AssumeRolePolicyDocument"]))}
    for name, doc in cfn_policies(role["Policies"]):
        grants[name] = cfn_grants(cfn_statements(doc))
    function = next(r for r in res.values() if r["Type"] == "AWS::Serverless::Function")["Properties"]
    return {
        "types": {r["Type"] for r in res.values()},
        "environment": set(function["Environment"]["Variables"]),
        "grants": grants,
        "parameters": set(template["Parameters"]),
        "outputs": set(template["Outputs"]),
    }


# --- the module ---------------------------------------------------------------------------

def merged(files):
    """The module's files as one parsed configuration: kind -> list of entries."""
    out = {}
    for parsed in files.values():
        for kind, entries in parsed.items():
            out.setdefault(kind, []).extend(entries)
    return out


def document_grants(doc):
    actions, conditions = set(), set()
    statements = list(doc.get("statement", []))
    for dyn in doc.get("dynamic", []):
        for label, body in dyn.items():
            if unquote(label) == "statement":
                statements.extend(body.get("content", []))
    for st in statements:
        actions |= {a for s in strings(st.get("actions", [])) for a in ACTION.findall(s)}
        for cond in st.get("condition", []):
            conditions.add((unquote(cond["test"]), unquote(cond["variable"])))
    return actions, conditions


def module_facts(conf):
    resources = blocks(conf, "resource")
    data = blocks(conf, "data")
    documents = {name: body for kind, name, body in data if kind == "aws_iam_policy_document"}
    problems = []

    grants = {}
    for kind, name, body in resources:
        if kind == "aws_iam_role":
            ref = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.(\w+)\.json\}", body.get("assume_role_policy", ""))
            if ref:
                grants[TRUST] = document_grants(documents[ref.group(1)])
        if kind == "aws_iam_role_policy":
            ref = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.(\w+)(\[0\])?\.json\}", body.get("policy", ""))
            if not ref or ref.group(1) not in documents:
                problems.append(f"aws_iam_role_policy.{name}: policy is not an aws_iam_policy_document's json")
                continue
            grants[unquote(body["name"])] = document_grants(documents[ref.group(1)])

    environment = set()
    functions = [body for kind, _, body in resources if kind == "aws_lambda_function"]
    for body in functions:
        for env in body.get("environment", []):
            variables = env.get("variables")
            if isinstance(variables, dict):
                environment |= {unquote(k) for k in variables if not k.startswith("__")}
            else:
                ref = re.search(r"\blocal\.(\w+)\b", str(variables))
                local = next((entry[ref.group(1)] for entry in conf.get("locals", []) if ref and ref.group(1) in entry), None)
                if not isinstance(local, dict):
                    problems.append("aws_lambda_function: environment.variables is neither a map nor built from a local map")
                    continue
                environment |= {unquote(k) for k in local if not k.startswith("__")}

    return problems, {
        "types": {kind for kind, _, _ in resources},
        "data_types": {kind for kind, _, _ in data},
        "environment": environment,
        "grants": grants,
        "variables": {name: body for name, _, body in blocks(conf, "variable")},
        "outputs": {name: body for name, _, body in blocks(conf, "output")},
    }


# --- the comparison -----------------------------------------------------------------------

def described(conf, where):
    problems = []
    for kind in ("variable", "output"):
        for name, _, body in blocks(conf, kind):
            if not unquote(body.get("description", "")).strip():
                problems.append(f"{where}: {kind} {name} has no description")
    return problems


def compare(t, m, doc_text):
    problems = []
    if t["environment"] != m["environment"]:
        problems.append(f"environment: template {sorted(t['environment'])}, module {sorted(m['environment'])}")

    for policy in sorted(set(t["grants"]) | set(m["grants"])):
        if policy not in m["grants"]:
            problems.append(f"IAM: the template's policy {policy} is missing from the module")
        elif policy not in t["grants"]:
            problems.append(f"IAM: the module's policy {policy} is not in the template")
        else:
            (ta, tc), (ma, mc) = t["grants"][policy], m["grants"][policy]
            if ta != ma:
                problems.append(f"IAM {policy}: actions template {sorted(ta)}, module {sorted(ma)}")
            if tc != mc:
                problems.append(f"IAM {policy}: conditions template {sorted(tc)}, module {sorted(mc)}")

    for cfn in sorted(t["types"]):
        if cfn not in RESOURCE_TYPES:
            problems.append(f"resource types: {cfn} has no Terraform type in RESOURCE_TYPES")
        elif not RESOURCE_TYPES[cfn] <= m["types"]:
            problems.append(f"resource types: {cfn} needs {sorted(RESOURCE_TYPES[cfn] - m['types'])} in the module")
    mapped = set().union(*(RESOURCE_TYPES[c] for c in t["types"] if c in RESOURCE_TYPES))
    for tf in sorted(m["types"] - mapped - set(MODULE_ONLY_TYPES)):
        problems.append(f"resource types: the module's {tf} is neither a template resource's type nor in MODULE_ONLY_TYPES")
    for tf in sorted(m["data_types"] - DATA_TYPES):
        problems.append(f"data sources: {tf} is not in DATA_TYPES")

    for what, kind, template_names, mapping, extra, module_names in (
            ("parameter", "variable", t["parameters"], PARAMETERS, MODULE_ONLY_VARIABLES, m["variables"]),
            ("output", "output", t["outputs"], OUTPUTS, MODULE_ONLY_OUTPUTS, m["outputs"])):
        for name in sorted(template_names):
            if name not in mapping:
                problems.append(f"template {what} {name} has no module counterpart in this script's table")
            elif mapping[name] not in module_names:
                problems.append(f"template {what} {name}: the module has no {mapping[name]}")
        for name in sorted(set(module_names) - set(mapping.values()) - extra):
            problems.append(f"module {kind} {name} is neither mapped to the template nor listed as module-only")
        for name in sorted(module_names):
            if f"`{name}`" not in doc_text:
                problems.append(f"docs/deploy.md does not name the module's {kind} `{name}`")
    return problems


def example_problems(path, parsed, variables):
    problems = described(parsed, path)
    for name, _, body in blocks(parsed, "module"):
        source = unquote(body.get("source", ""))
        if not source.startswith("."):
            continue
        if (path.parent / source).resolve() != MODULE.resolve():
            problems.append(f"{path}: module {name}'s source {source} is not deploy/terraform")
        for arg in body:
            if arg.startswith("__") or arg in ("source", "providers", "depends_on", "count", "for_each"):
                continue
            if arg not in variables:
                problems.append(f"{path}: module {name} sets {arg}, which the module does not declare")
    return problems


def check(module_files, example_files, template, doc_text):
    problems = []
    for path, parsed in module_files.items():
        problems += described(parsed, path.name)
    conf = merged(module_files)
    found, facts = module_facts(conf)
    problems += found
    problems += compare(template_facts(template), facts, doc_text)
    for path, parsed in example_files.items():
        problems += example_problems(path, parsed, facts["variables"])
    return problems


# Each mutation: (file, text, replacement); each must make check() report a problem.
MUTATIONS = [
    ("iam.tf", '"dynamodb:UpdateItem"', '"dynamodb:PutItem"'),
    ("iam.tf", '"kms:ViaService"', '"kms:CallerAccount"'),
    ("iam.tf", '"aws:SourceAccount"', '"aws:SourceOrgID"'),
    ("main.tf", "METRIC_GRAPH       =", "METRIC_GRAPHS      ="),
    ("storage.tf", 'resource "aws_dynamodb_table"', 'resource "aws_dynamodb_global_table"'),
    ("variables.tf", 'description = "Tags for every resource that takes them."', ""),
    ("outputs.tf", 'output "function_url"', 'output "buttons_url"'),
]


def main():
    module_paths = sorted(MODULE.glob("*.tf"))
    example_paths = sorted((MODULE / "examples").rglob("*.tf"))
    texts = {p: p.read_text(encoding="utf-8") for p in module_paths + example_paths}
    parsed = {}
    for path, text in texts.items():
        try:
            parsed[path] = hcl2.loads(text)
        except Exception as e:  # noqa: BLE001 - any parse error is the finding
            print(f"{path.relative_to(ROOT)}: does not parse as HCL2: {e}")
            return 1
    template, matches = decode(str(TEMPLATE))
    if matches:
        print(f"template.yaml does not load: {matches}")
        return 1
    doc_text = DEPLOY_DOC.read_text(encoding="utf-8")

    modules = {p: parsed[p] for p in module_paths}
    examples = {p: parsed[p] for p in example_paths}
    problems = check(modules, examples, template, doc_text)
    for p in problems:
        print(f"terraform-check: {p}")
    if problems:
        return 1

    if "--self-test" in sys.argv:
        for name, old, new in MUTATIONS:
            path = MODULE / name
            if texts[path].count(old) != 1:
                print(f"terraform-check self-test: {name} no longer holds {old!r} once; update MUTATIONS")
                return 1
            mutated = dict(modules)
            mutated[path] = hcl2.loads(texts[path].replace(old, new))
            if not check(mutated, examples, template, doc_text):
                print(f"terraform-check self-test: {name} with {old!r} -> {new!r} passed the check")
                return 1
        print(f"terraform-check self-test: all {len(MUTATIONS)} mutations fail the check")

    print(f"terraform-check: {len(module_paths)} module files and {len(example_paths)} example files parsed;"
          f" environment, IAM actions and conditions, resource types, parameters and outputs agree with template.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
