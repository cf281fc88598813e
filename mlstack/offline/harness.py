"""Run the Pulumi program offline, exactly as the Python language host would, on mocks.

The language host configures the runtime, then runs
``run_in_stack(lambda: runpy.run_path(<main>, run_name="__main__"))`` on a fresh event loop
and waits for every outstanding registration. This module does the same, except that the
runtime is configured with ``pulumi.runtime.set_mocks`` (canned cloud answers from
:mod:`mlstack.offline.mocks`), config comes from the stack file, encoded as the CLI does
(:mod:`mlstack.offline.stack_files`), and the SDK's hot spots of a run on mocks are changed
for the run's duration (:mod:`mlstack.offline.sdk_runtime`).

This is the one harness: the ``mlstack`` command and the tests both call :func:`run_plan`.
"""

from __future__ import annotations

import asyncio
import os
import runpy
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_in_stack

from infra.config import ConfigError, build_config, resolved_document
from mlstack.offline.mocks import OfflineMocks, RecordingMonitor, UnknownInvokeError
from mlstack.offline.plan import Plan, build_plan
from mlstack.offline.sdk_runtime import offline_runtime
from mlstack.offline.secrets import Fingerprinter, FingerprintKeyError
from mlstack.offline.stack_files import (
    Project,
    StackFileError,
    encode_config,
    load_project,
    load_stack_doc,
)
from mlstack.project import PROJECT_ROOT, tiers_file
from policy_pack.settings import tier_of


class PlanConfigError(Exception):
    """Bad stack config or project files: the user must fix a file (exit code 2)."""


class PlanRuntimeError(Exception):
    """The program itself failed or misbehaved under the offline runtime."""


class _RootPlaceholder:
    """Stands in as the root resource while ``set_mocks`` runs, so that it does not create
    a stack of its own: the language host's ``run_in_stack`` creates the one real stack."""


def _refuse_early_declarations() -> None:
    """Fail when resources were declared before the mocks were set.

    A module that declares resources at import time, imported before the harness runs,
    registers them against no engine: the SDK fakes a response, and they would be missing
    from the plan without a word. Such declarations leave pending work behind.
    """
    pending = len(runtime_settings._get_rpc_manager().rpcs) + len(runtime_settings.SETTINGS.outputs)
    loop_tasks = 0
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
        loop_tasks = len([t for t in asyncio.all_tasks(loop) if not t.done()])
    except RuntimeError:
        loop_tasks = 0
    if pending or loop_tasks or runtime_settings.get_root_resource() is not None:
        raise PlanRuntimeError(
            "resources were declared before the offline mocks were set: a module declared "
            "resources at import time or imported the program early; import it only "
            "through run_plan()"
        )


@contextmanager
def _program_environment(project: Project) -> Iterator[None]:
    """argv, working directory and sys.path as the language host leaves them."""
    saved_argv, saved_cwd, saved_path = sys.argv[:], os.getcwd(), sys.path[:]
    sys.argv = [str(project.main)]
    os.chdir(project.root)
    try:
        yield
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        os.chdir(saved_cwd)


def _reset_runtime() -> None:
    runtime_settings.set_root_resource(None)  # type: ignore[arg-type]
    runtime_settings.configure(runtime_settings.Settings(project=None, stack=None))


def _drain(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what a failed run left pending, so nothing outlives its loop."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


def _run_program(program: str) -> None:
    """Run the program as the language host does. When it fails, the outputs it left
    pending are dropped from the engine's wait: one that can never resolve (a deferred output
    whose resolver the failure skipped) would otherwise keep the plan waiting forever instead
    of reporting the failure."""
    try:
        runpy.run_path(program, run_name="__main__")
    except BaseException:
        settings = runtime_settings.SETTINGS
        with settings.lock:
            settings.outputs.clear()
        raise


def run_plan(stack: str, project_root: Path = PROJECT_ROOT) -> Plan:
    """Run the program of ``project_root`` for ``stack`` on mocks and return its plan.

    Raises :class:`PlanConfigError` for bad config or project files (exit code 2) and
    :class:`PlanRuntimeError` when the program fails for another reason.
    """
    try:
        project = load_project(project_root)
        fingerprints = Fingerprinter.for_stack(project.name, stack)
        encoded = encode_config(project, load_stack_doc(project, stack), fingerprints.ciphertext)
    except (StackFileError, FingerprintKeyError) as err:
        raise PlanConfigError(str(err)) from None
    tier = declared_tier(project, stack, encoded.values)

    _refuse_early_declarations()
    region = encoded.values.get("aws:region", "us-east-1")
    monitor = RecordingMonitor(OfflineMocks(region=region), fingerprints.value)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        pulumi.runtime.set_all_config(encoded.values, encoded.secret_keys)
        runtime_settings.set_root_resource(_RootPlaceholder())  # type: ignore[arg-type]
        pulumi.runtime.set_mocks(
            monitor.mocks, project=project.name, stack=stack, preview=True, monitor=monitor
        )
        runtime_settings.set_root_resource(None)  # type: ignore[arg-type]
        with _program_environment(project), offline_runtime(loop):
            program = str(project.main)
            loop.run_until_complete(run_in_stack(lambda: _run_program(program)))
    except ConfigError as err:
        raise PlanConfigError(str(err)) from None
    except pulumi.RunError as err:
        raise PlanConfigError(str(err)) from None
    except UnknownInvokeError as err:
        raise PlanRuntimeError(str(err)) from None
    finally:
        _drain(loop)
        _reset_runtime()
        asyncio.set_event_loop(None)
        loop.close()

    if not monitor.registrations:
        raise PlanRuntimeError(
            f"the program in {project.main} declared no resources for stack '{stack}'"
        )
    return build_plan(
        project.name,
        stack,
        tier,
        monitor,
        encoded.values,
        encoded.secret_keys,
        fingerprints.config_document(_resolved_config(stack, encoded.values, encoded.secret_keys)),
    )


def _resolved_config(stack: str, values: dict[str, str], secret_keys: list[str]) -> dict[str, Any]:
    """The stack's config as the program resolved it, by the same ``build_config`` it calls.

    Empty for a program that ran without the kit's config (test programs): had the kit's
    program found a problem, it would have failed the plan already. Values of secret-class
    keys are still in plain text here."""
    try:
        return resolved_document(build_config(stack, values, secret_keys))
    except ConfigError:
        return {}


def declared_tier(project: Project, stack: str, config: dict[str, str]) -> str:
    """The stack's tier from the project's tier declaration (production when undeclared).

    Raises :class:`PlanConfigError` when the stack file's ``mlstack:environment`` says
    otherwise: the file under review cannot relabel its stack."""
    tier = tier_of(stack, tiers_file(project.root))
    configured = config.get("mlstack:environment")
    if configured is not None and configured != tier:
        declared_in = tiers_file(project.root).relative_to(project.root)
        raise PlanConfigError(
            f"{project.stack_file(stack).relative_to(project.root)}: mlstack:environment = "
            f"{configured}\n  {declared_in} declares stack '{stack}' {tier}: set "
            f"mlstack:environment: {tier} (a tier changes only in {declared_in})"
        )
    return tier
