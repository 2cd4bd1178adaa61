"""Shape of docs/slack-app-manifest.yaml: the sections Slack's manifest schema knows, the required
fields (length limits are not checked here), and exactly the scopes alarm-to-slack needs (docs/slack-app-manifest.yaml says why).
Run by `make test` with the test-services venv's python (PyYAML comes with moto)."""
import sys

import yaml

SECTIONS = {"_metadata", "display_information", "features", "oauth_config", "settings", "functions",
            "workflows", "datastores", "outgoing_domains", "types"}
SCOPES = ["incoming-webhook", "chat:write", "channels:history", "groups:history", "files:write"]


def check(path):
    with open(path, encoding="utf-8") as f:
        m = yaml.safe_load(f)
    problems = []
    unknown = set(m) - SECTIONS
    if unknown:
        problems.append(f"unknown top-level sections {sorted(unknown)}")
    if m.get("_metadata", {}).get("major_version") not in (1, 2):
        problems.append("_metadata.major_version must be 1 or 2")
    info = m.get("display_information", {})
    if not info.get("name"):
        problems.append("display_information.name is required")
    bot = m.get("oauth_config", {}).get("scopes", {}).get("bot", [])
    if bot != SCOPES:
        problems.append(f"bot scopes {bot}, expected {SCOPES}")
    if m.get("oauth_config", {}).get("scopes", {}).get("user"):
        problems.append("no user scopes: the app acts as its bot only")
    user = m.get("features", {}).get("bot_user", {})
    if not user.get("display_name"):
        problems.append("features.bot_user.display_name: bot scopes need a bot user")
    settings = m.get("settings", {})
    for key in ("event_subscriptions", "interactivity"):
        if key in settings:
            problems.append(f"settings.{key}: nothing comes back to this app")
    return problems


if __name__ == "__main__":
    path = sys.argv[1]
    problems = check(path)
    for p in problems:
        print(f"{path}: {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"{path}: the Slack app manifest has the expected shape and scopes")
