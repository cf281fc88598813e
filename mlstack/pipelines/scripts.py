"""The retraining pipelines' step scripts: where they live, the content-addressed keys the
generated definitions name, and their upload by the release workflow.

The scripts are the files of ``mlstack/pipelines/code/`` (:data:`STEP_SCRIPTS`). A generated
definition reads each from ``s3://<artifacts>/<codePrefix>/<sha256 of the file>/<file>``:
the key holds the content's hash, so the definition deployed by a release names exactly the
scripts of that release, a changed script is a changed definition in the pull request's
diff, and uploading a release never replaces what a running (or older) definition reads.

``mlstack pipeline upload-scripts STACK --bucket B`` (the deploy workflow, before
``pulumi up``) uploads every script the stack's committed definitions name, after checking
each file still hashes to its key (a stale definition stops the upload: ``make pipelines``).
An object already at its key is left alone when its SHA-256 matches, and is an error when it
does not; new objects are written with ``If-None-Match: *`` and a SHA-256 checksum S3
verifies, so two releases racing cannot overwrite one another.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.config.retraining import definition_file

SOURCE_DIR = Path(__file__).resolve().parent / "code"
"""The step scripts in the repository."""
STEP_SCRIPTS = ("gate.py", "preprocess.py", "evaluate.py")
"""Every script a retraining pipeline runs, by file name."""
BUCKET_PARAMETER = "ArtifactsBucket"
"""The definitions' parameter naming the artifacts bucket (the program fills it in)."""
CODE_INPUT = "code"
"""Name of the processing input that carries a step's script."""


class ScriptError(ValueError):
    """A definition or script the upload cannot use; the message says what to do."""


def script_sha256(name: str, source_dir: Path = SOURCE_DIR) -> str:
    """Hex SHA-256 of the repository's ``name``."""
    return hashlib.sha256((source_dir / name).read_bytes()).hexdigest()


def script_key(code_prefix: str, name: str, source_dir: Path = SOURCE_DIR) -> str:
    """``<code_prefix>/<sha256>/<name>``: the key a definition reads ``name`` from."""
    return f"{code_prefix}/{script_sha256(name, source_dir)}/{name}"


@dataclass(frozen=True)
class ScriptRef:
    """One script object a committed definition reads."""

    key: str
    """``<codePrefix>/<sha256>/<name>`` in the artifacts bucket."""
    definition: Path
    """The definition naming it, relative to the project root."""

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[1]

    @property
    def sha256(self) -> str:
        return self.key.rsplit("/", 2)[1]

    @property
    def prefix(self) -> str:
        """The model's ``codePrefix``."""
        return self.key.rsplit("/", 2)[0]


def pipeline_steps(steps: Any) -> Iterator[Mapping[str, Any]]:
    """Every step of a definition's ``Steps``, those under condition steps (if and else)
    included, depth first."""
    for step in steps or []:
        yield step
        if step.get("Type") == "Condition":
            yield from pipeline_steps(step["Arguments"].get("IfSteps"))
            yield from pipeline_steps(step["Arguments"].get("ElseSteps"))


def code_keys(definition: Mapping[str, Any]) -> list[str]:
    """Keys of the scripts a pipeline definition's processing steps read, in step order.
    Raises :class:`ScriptError` for a script input that is not a key of the bucket
    parameter."""
    keys: list[str] = []
    for step in pipeline_steps(definition.get("Steps")):
        for source in step.get("Arguments", {}).get("ProcessingInputs", []):
            if source.get("InputName") != CODE_INPUT:
                continue
            uri = source.get("S3Input", {}).get("S3Uri")
            join = uri.get("Std:Join", {}) if isinstance(uri, dict) else {}
            values = join.get("Values", [])
            bucket = {"Get": f"Parameters.{BUCKET_PARAMETER}"}
            parts = values[2:]
            if (
                join.get("On") != "/"
                or values[:2] != ["s3:/", bucket]
                or not parts
                or not all(isinstance(p, str) for p in parts)
            ):
                raise ScriptError(
                    f"step {step.get('Name')}: its script is not read from a fixed key of "
                    f"the {BUCKET_PARAMETER} bucket ({json.dumps(uri)}): regenerate the "
                    "definition with make pipelines"
                )
            keys.append("/".join(parts))
    return keys


def stack_scripts(root: Path, stack: str) -> list[ScriptRef]:
    """Every script object the committed definitions of ``stack``'s models read, each key
    once, sorted. Raises :class:`ScriptError` when a definition is missing or unreadable."""
    from mlstack.pipelines.stacks import stack_models

    _, models = stack_models(root, stack)
    found: dict[str, ScriptRef] = {}
    for model in models.values():
        for kind in model.settings.pipeline_kinds:
            path = definition_file(stack, model.name, kind)
            try:
                document = json.loads((root / path).read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise ScriptError(f"{path} is missing: run make pipelines, commit it") from None
            except ValueError as err:
                raise ScriptError(f"{path} is not JSON ({err}): run make pipelines") from None
            try:
                keys = code_keys(document)
            except ScriptError as err:
                raise ScriptError(f"{path}: {err}") from None
            for key in keys:
                found.setdefault(key, ScriptRef(key, path))
    return [found[key] for key in sorted(found)]


def stale_scripts(refs: Sequence[ScriptRef], source_dir: Path = SOURCE_DIR) -> list[str]:
    """One problem per script whose key the repository's file no longer matches."""
    problems = []
    for ref in refs:
        path = source_dir / ref.name
        if ref.name not in STEP_SCRIPTS or not path.is_file():
            problems.append(
                f"{ref.definition}: reads {ref.key}, but {ref.name} is not one of the step "
                f"scripts in {SOURCE_DIR.name}/ ({', '.join(STEP_SCRIPTS)})"
            )
        elif script_sha256(ref.name, source_dir) != ref.sha256:
            problems.append(
                f"{ref.definition}: reads {ref.name} at sha256 {ref.sha256[:12]}..., the "
                f"repository's is {script_sha256(ref.name, source_dir)[:12]}...: run make "
                "pipelines and commit the definitions"
            )
    return problems


@dataclass(frozen=True)
class Uploaded:
    """What the upload did with one script object."""

    key: str
    action: str
    """``uploaded`` (it was not there) or ``present`` (the same bytes were)."""


def _checksum(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def upload_scripts(
    s3: Any, bucket: str, refs: Sequence[ScriptRef], source_dir: Path = SOURCE_DIR
) -> list[Uploaded]:
    """Put every script of ``refs`` at its key in ``bucket`` unless the same bytes are
    there. Raises :class:`ScriptError` when another object holds a key, botocore's
    ``ClientError`` when S3 refuses."""
    from botocore.exceptions import ClientError

    done: list[Uploaded] = []
    for ref in refs:
        body = (source_dir / ref.name).read_bytes()
        expected = _checksum(body)
        try:
            head = s3.head_object(Bucket=bucket, Key=ref.key, ChecksumMode="ENABLED")
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise
            try:
                s3.put_object(
                    Bucket=bucket,
                    Key=ref.key,
                    Body=body,
                    ContentType="text/x-python",
                    ChecksumAlgorithm="SHA256",
                    IfNoneMatch="*",
                )
            except ClientError as put_err:
                # Another release wrote the key between the two calls: check what it wrote.
                if put_err.response.get("Error", {}).get("Code") != "PreconditionFailed":
                    raise
                head = s3.head_object(Bucket=bucket, Key=ref.key, ChecksumMode="ENABLED")
            else:
                done.append(Uploaded(ref.key, "uploaded"))
                continue
        if head.get("ChecksumSHA256") != expected:
            raise ScriptError(
                f"s3://{bucket}/{ref.key} exists with other content (sha256 checksum "
                f"{head.get('ChecksumSHA256') or 'none'}, expected {expected}): it was not "
                "written by the release workflow; find out who wrote it, then delete it"
            )
        done.append(Uploaded(ref.key, "present"))
    return done
