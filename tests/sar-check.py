"""template.yaml's AWS::ServerlessRepo::Application metadata against what the Serverless
Application Repository accepts (the SAM developer guide's metadata table: lengths and patterns,
no intrinsic functions) and against the repository: SemanticVersion is Cargo.toml's version, and
ReadmeUrl a file that exists. `sam validate --lint` does not look at Metadata, hence this.
Run by `make sam-check` with the SAM venv's python (cfn-lint's loader)."""
import pathlib
import re
import sys
import tomllib

from cfnlint.decode import decode

ROOT = pathlib.Path(__file__).resolve().parent.parent

# property: (required, max length, pattern or None)
RULES = {
    "Name": (True, 140, r"[a-zA-Z0-9\-]+"),
    "Description": (True, 256, None),
    "Author": (True, 127, r"[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?"),
    "SemanticVersion": (False, 256, r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?"),
    "ReadmeUrl": (False, 2048, None),
    "LicenseUrl": (False, 2048, None),
    "SpdxLicenseId": (False, 256, r"[A-Za-z0-9.+-]+"),
    "HomePageUrl": (False, 2048, r"https://\S+"),
    "SourceCodeUrl": (False, 2048, r"https://\S+"),
    "Labels": (False, None, None),
}
LABEL = re.compile(r"[a-zA-Z0-9+\-_:/@]+")


def check(template, cargo_version):
    problems = []
    app = template.get("Metadata", {}).get("AWS::ServerlessRepo::Application")
    if not isinstance(app, dict):
        return ["template.yaml has no Metadata AWS::ServerlessRepo::Application"]
    for key in sorted(set(app) - set(RULES)):
        problems.append(f"{key} is not a SAR metadata property")
    for key, (required, limit, pattern) in RULES.items():
        value = app.get(key)
        if value is None:
            if required:
                problems.append(f"{key} is required")
            continue
        if key == "Labels":
            if not isinstance(value, list) or not 1 <= len(value) <= 10:
                problems.append("Labels must be a list of 1 to 10 labels")
                continue
            problems += [f"label {v!r}: 1 to 127 of letters, digits and +-_:/@" for v in value
                         if not isinstance(v, str) or len(v) > 127 or not LABEL.fullmatch(v)]
            continue
        if not isinstance(value, str):
            problems.append(f"{key} must be a plain string (SAR takes no intrinsic functions)")
            continue
        if not 1 <= len(value) <= limit:
            problems.append(f"{key} must be 1 to {limit} characters, is {len(value)}")
        if pattern and not re.fullmatch(pattern, value):
            problems.append(f"{key} {value!r} does not match {pattern}")
    if app.get("SemanticVersion") != cargo_version:
        problems.append(f"SemanticVersion {app.get('SemanticVersion')!r} is not Cargo.toml's version {cargo_version!r}")
    for key in ("ReadmeUrl", "LicenseUrl"):
        value = app.get(key)
        if isinstance(value, str) and "://" not in value and not (ROOT / value).is_file():
            problems.append(f"{key} {value} is not a file in the repository")
    if ("SpdxLicenseId" in app) != ("LicenseUrl" in app):
        problems.append("SpdxLicenseId and LicenseUrl come together")
    return problems


def main():
    template, matches = decode(str(ROOT / "template.yaml"))
    if matches:
        print(f"template.yaml does not load: {matches}")
        return 1
    with open(ROOT / "Cargo.toml", "rb") as f:
        version = tomllib.load(f)["package"]["version"]
    problems = check(template, version)
    # The check must be able to fail: a version other than Cargo.toml's is refused.
    if not problems and not check(template, version + "-other"):
        problems.append("self-test: a SemanticVersion other than Cargo.toml's passed")
    for p in problems:
        print(f"sar-check: {p}")
    if problems:
        return 1
    print(f"sar-check: SAR metadata well-formed, SemanticVersion {version} is Cargo.toml's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
