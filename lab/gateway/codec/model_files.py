"""botocore's data files (service models, endpoints, paginators) parsed once per process, by orjson, and
shared: the gateway's own botocore session reads them through `OrjsonFileLoader`, and every loader moto's
sessions make reads them through the same `read` (lab.backends.moto_patches, parsed-json-once), so EC2's model,
which both use, is held once. A service model keeps no documentation strings: a third of a parsed model (EC2's
is 10 MB), read by botocore for help texts and docstrings only, where it shows "" when one is absent."""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

import botocore.loaders
import orjson

# botocore edits these models in place when a client is made (it strips {Bucket} from S3's URIs and the account
# prefix from S3 Control's hosts): every caller gets its own copy of them.
_EDITED_IN_PLACE = (f"{os.sep}s3{os.sep}", f"{os.sep}s3control{os.sep}")
_SERVICE_MODELS = ("service-2.json", "service-2.json.gz")

_PARSED: dict[str, object] = {}  # path -> the parsed JSON, shared by every caller
_LOCK = threading.Lock()  # (two sessions made at once would otherwise each parse the file)


def read(full_path: str, open_method: Any) -> object:
    """The parsed file (None when there is none), as botocore's JSONFileLoader._load_file answers."""
    cached = _PARSED.get(full_path)
    if cached is not None:
        return cached
    shared = not any(part in full_path for part in _EDITED_IN_PLACE)
    with _LOCK if shared else contextlib.nullcontext():
        cached = _PARSED.get(full_path)
        if cached is not None:
            return cached
        if not os.path.isfile(full_path):
            return None
        with open_method(full_path, "rb") as handle:
            data = orjson.loads(handle.read())
        if full_path.endswith(_SERVICE_MODELS) and type(data) is dict:
            data.pop("documentation", None)
            for part in ("operations", "shapes"):  # (not clientContextParams: botocore requires theirs)
                drop_documentation(data.get(part))
        if shared:
            _PARSED[full_path] = data
        return data


def drop_documentation(node: Any) -> None:
    """Remove every "documentation" string under a model's operations or shapes, in place."""
    if type(node) is dict:
        node.pop("documentation", None)
        for value in node.values():
            if type(value) is dict or type(value) is list:
                drop_documentation(value)
    elif type(node) is list:
        for value in node:
            if type(value) is dict or type(value) is list:
                drop_documentation(value)


_LISTED: dict[tuple[str, str], frozenset[str]] = {}  # (a search path, a type name) -> the services found there
_LISTING = threading.Lock()  # (threads that ask at once wait for one listing)


def list_available_services(loader: botocore.loaders.Loader, type_name: str, lists: Any) -> list[str]:
    """The services that have `type_name` data in `loader`'s search paths, as botocore's
    Loader.list_available_services (`lists`) answers, each search path listed once per process: botocore lists
    and stats its 400-odd data folders for every new loader, and moto makes a new loader (with its own folder
    first) for every model it loads: 35 ms each, twice on the way to ready."""
    found: set[str] = set()
    with _LISTING:
        for path in loader.search_paths:
            listed = _LISTED.get((path, type_name))
            if listed is None:
                alone = botocore.loaders.Loader(extra_search_paths=[path], file_loader=loader.file_loader,
                                                include_default_search_paths=False)
                listed = _LISTED[(path, type_name)] = frozenset(lists(alone, type_name))
            found |= listed
    return sorted(found)


class OrjsonFileLoader(botocore.loaders.JSONFileLoader):
    """botocore's JSON file loader reading through `read`: orjson parses four times as fast as the standard
    library's parser, on the way to ready."""

    def _load_file(self, full_path: str, open_method: Any) -> Any:
        return read(full_path, open_method)
