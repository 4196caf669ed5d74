# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The progress option, recorded by the modules that move traffic; each module's description says on what."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  progress:
    description:
      - Where the release is once this task changes something, recorded as JSON in the annotation
        C(nodowntime.k8s/progress), with the task's first patch; the description says on which object.
      - It needs a non-empty string C(phase); other keys are free (strings, numbers, booleans, null, lists,
        dicts). C(at), the time of the write, is added by the module.
      - Recorded progress equal to O(progress) (C(at) aside) is not written again. Without O(progress) the
        annotation is left as it is.
    type: dict
"""
