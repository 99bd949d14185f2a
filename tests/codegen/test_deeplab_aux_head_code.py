"""The code written for DeepLabV3's auxiliary head: the backbone, one nn.Sequential that keeps
torchvision's names, runs once in two slices around the step the head reads (``backbone.4``),
as a person would write it; without aux_loss nothing of the head is written."""

from __future__ import annotations

from pathlib import Path

import archspec

SPEC = Path(__file__).resolve().parents[2] / "specs" / "deeplabv3_mobilenet_v3_large.yaml"


def test_the_aux_head_reads_the_backbone_between_two_slices() -> None:
    source = archspec.emit(SPEC, backend="torch", params={"aux_loss": True}, input_shape=[1, 3, 64, 64]).source
    forward = source[source.index("    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:") :]
    assert forward.splitlines()[1:] == [
        "        backbone_4 = self.backbone[:5](x)",
        "        backbone = self.backbone[5:](backbone_4)",
        "        classifier = self.classifier(backbone)",
        '        out = F.interpolate(classifier, size=x.shape[-2:], mode="bilinear", align_corners=False)',
        "        aux_classifier = self.aux_classifier(backbone_4)",
        '        aux = F.interpolate(aux_classifier, size=x.shape[-2:], mode="bilinear", align_corners=False)',
        '        return {"out": out, "aux": aux}',
    ]
    assert "        self.aux_classifier = FcnHead(40, classes)\n" in source
    # the slices and FCNHead's 40 channels are this setting's: the class takes no other setting,
    # and passes the backbone's BatchNorm settings to its blocks as values
    signature = "    def __init__(self, classes=21, atrous_rates=None, aspp_channels=256, aspp_dropout=0.5) -> None:\n"
    assert signature in source
    assert "norm_eps=0.001,\n" in source


def test_without_aux_loss_the_backbone_runs_whole() -> None:
    source = archspec.emit(SPEC, backend="torch", input_shape=[1, 3, 64, 64]).source
    code = source[source.index("class Deeplabv3MobilenetV3Large") :]
    code = code[code.index('    """\n') :]  # after the docstring, which tells of the head
    assert "backbone = self.backbone(x)" in code and "aux" not in code
    signature = code[code.index("    def __init__(") : code.index(") -> None:")]
    assert signature.split()[3:] == [
        "classes=21,",
        "atrous_rates=None,",
        "aspp_channels=256,",
        "aspp_dropout=0.5,",
        "norm_eps=0.001,",
        "norm_update_rate=0.01,",
        "inverted_residual_setting=None,",
    ]
