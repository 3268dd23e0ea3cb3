"""doodle: semantic, patch-based neural style transfer ("neural doodle").

>>> import doodle
>>> result = doodle.paint("Monet.jpg", style_map="Monet_sem.png", target_map="Coastline_sem.png")  # doctest: +SKIP
>>> result.save("coastline.png")  # with the record of what made it  # doctest: +SKIP
"""

from .errors import DoodleError, PaintingStopped
from .images import save_atomic
from .inputs import Inputs, read_inputs
from .painter import Painter, Result, Step, paint, paint_scene, plan_scene
from .plan import Mode, Plan, Start, make_plan
from .scene import Scene, build_scene, encode_scene
from .settings import PaintSettings
from .version import __version__
from .vgg import VGGFeatures, load_vgg

__all__ = [
    "DoodleError",
    "Inputs",
    "Mode",
    "PaintSettings",
    "Painter",
    "PaintingStopped",
    "Plan",
    "Result",
    "Scene",
    "Start",
    "Step",
    "VGGFeatures",
    "__version__",
    "build_scene",
    "encode_scene",
    "load_vgg",
    "make_plan",
    "paint",
    "paint_scene",
    "plan_scene",
    "read_inputs",
    "save_atomic",
]
