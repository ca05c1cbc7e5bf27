"""`paht run --config FILE module:Class`: `nameko run` in PAHT's container (paht.containers), how `paht up` and the
Kubernetes pods start every service.

nameko takes the container class only from the config (SERVICE_CONTAINER_CLS); setting it here, not in each
service's config.yml, reaches every service however its config is written. A config naming its own class keeps it."""
from __future__ import annotations

import argparse
import sys

CONTAINER_KEY = "SERVICE_CONTAINER_CLS"


def with_paht_container(config: dict) -> dict:
    from .containers import CONTAINER_CLS

    return {CONTAINER_KEY: CONTAINER_CLS, **config}


def load_config(path: str) -> dict:
    """The YAML config as `nameko run` reads it (`${VAR:default}` filled from the environment)."""
    import yaml
    from nameko.cli.main import setup_yaml_parser

    setup_yaml_parser()
    with open(path) as file:
        return yaml.safe_load(file) or {}


def main(argv: list[str]) -> int:
    import eventlet
    eventlet.monkey_patch()   # as `nameko run` does, before anything opens a socket

    import logging
    import logging.config

    from nameko.cli.commands import Run
    from nameko.cli.run import import_service, run
    from nameko.constants import AMQP_URI_CONFIG_KEY
    from nameko.exceptions import CommandError, ConfigurationError

    parser = argparse.ArgumentParser(prog="paht run", description=__doc__.split("\n\n")[0])
    Run.init_parser(parser)
    args = parser.parse_args(argv)
    if "." not in sys.path:
        sys.path.insert(0, ".")
    config = with_paht_container(load_config(args.config) if args.config else {AMQP_URI_CONFIG_KEY: args.broker})
    if "LOGGING" in config:
        logging.config.dictConfig(config["LOGGING"])
    else:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        services = [service for path in args.services for service in import_service(path)]
        run(services, config, backdoor_port=args.backdoor_port)
    except (CommandError, ConfigurationError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0
