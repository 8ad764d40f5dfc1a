"""The parser loader's model folders join what extra_model_paths.yaml set, never replace it.

Runs against a stand-in `folder_paths` with ComfyUI's add_model_folder_path semantics; the real
host is exercised by the host tests.
"""

import importlib.util
import sys
import types
from pathlib import Path

import pytest

PACK_ROOT = Path(__file__).resolve().parents[2]


def fake_folder_paths(models_dir: str, known: dict) -> types.ModuleType:
    fp = types.ModuleType("folder_paths")
    fp.models_dir = models_dir
    fp.folder_names_and_paths = known

    def add_model_folder_path(name, path, is_default=False):
        if name in fp.folder_names_and_paths:
            if path not in fp.folder_names_and_paths[name][0]:
                fp.folder_names_and_paths[name][0].append(path)
        else:
            fp.folder_names_and_paths[name] = ([path], set())

    fp.add_model_folder_path = add_model_folder_path
    fp.get_filename_list = lambda name: sorted(p.name for d in fp.folder_names_and_paths[name][0] for p in Path(d).glob(
        "*") if p.suffix in fp.folder_names_and_paths[name][1])
    return fp


@pytest.fixture
def parsing_models(monkeypatch, tmp_path):
    extra = tmp_path / "shared" / "parsers"
    extra.mkdir(parents=True)
    (extra / "exp-schp-201908261155-lip.pth").write_bytes(b"x")
    (extra / "notes.txt").write_text("not a model")
    fp = fake_folder_paths(str(tmp_path / "models"), {"human_parsing": ([str(extra)], set())})
    monkeypatch.setitem(sys.modules, "folder_paths", fp)
    spec = importlib.util.spec_from_file_location(
        "truepose_pack_under_test", PACK_ROOT / "__init__.py", submodule_search_locations=[str(PACK_ROOT)]
    )
    pack = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, pack)
    spec.loader.exec_module(pack)
    module = importlib.import_module(f"{spec.name}.nodes.parsing_models")
    yield module, fp, extra, tmp_path / "models"
    for name in [n for n in sys.modules if n.startswith(spec.name)]:
        del sys.modules[name]


def test_default_folders_are_added_after_the_configured_ones(parsing_models):
    module, fp, extra, models = parsing_models
    assert module.register_model_folders()
    module.register_model_folders()  # idempotent: a reload does not duplicate entries
    assert fp.folder_names_and_paths["human_parsing"][0] == [str(extra), str(models / "human_parsing")]
    assert fp.folder_names_and_paths["schp"][0] == [str(models / "schp")]
    assert {".pth", ".safetensors"} <= fp.folder_names_and_paths["schp"][1]


def test_the_combo_offers_quick_first_then_the_weight_files(parsing_models):
    module, *_ = parsing_models
    assert module.model_choices() == [module.QUICK, "exp-schp-201908261155-lip.pth"]
    inputs = module.TruePose_ParserLoader.INPUT_TYPES()["required"]
    assert inputs["model_name"][1]["default"] == module.QUICK
    assert set(module.NODE_DISPLAY_NAME_MAPPINGS.values()) == {"Human Parser Loader (TP)", "Human Parse (TP)"}
