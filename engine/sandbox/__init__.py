"""Script sandbox: a small Python subset that calls the trajectory library, checked before it runs
(`check_script`) and run by a tree-walking evaluator under step, size, time and memory bounds
(`run_script`, `run_script_isolated`). Nothing a script says can reach files, the network or the
interpreter: only library functions, a few safe builtins and the documented agent attributes.
"""
from engine.sandbox.checker import check_script
from engine.sandbox.errors import Problem, ScriptError, ScriptFailed, ScriptRefused
from engine.sandbox.policy import SandboxLimits
from engine.sandbox.runner import RunOptions, run_script, run_script_isolated

__all__ = ["Problem", "RunOptions", "SandboxLimits", "ScriptError", "ScriptFailed", "ScriptRefused", "check_script",
           "run_script", "run_script_isolated"]
