"""Script sandbox: a small Python subset that calls the trajectory library, checked before it runs
(`check_script`) and run by a tree-walking evaluator under step, size, time and memory bounds
(`run_script`); every untrusted script runs through the bounded executor (`run_bounded`: a warm
worker process with time, memory and output limits, cancellable). Nothing a script says can reach files, the network or the
interpreter: only library functions, a few safe builtins and the documented agent attributes.
"""
from engine.sandbox.checker import check_script
from engine.sandbox.errors import Problem, ScriptError, ScriptFailed, ScriptRefused
from engine.sandbox.policy import SandboxLimits
from engine.sandbox.runner import RunOptions, run_script, run_script_isolated
from engine.sandbox.executor import ScriptCancelled, ScriptExecutor, cancel_scope, run_bounded

__all__ = ["Problem", "RunOptions", "SandboxLimits", "ScriptCancelled", "ScriptError", "ScriptExecutor",
           "ScriptFailed", "ScriptRefused", "cancel_scope", "check_script", "run_bounded", "run_script",
           "run_script_isolated"]
