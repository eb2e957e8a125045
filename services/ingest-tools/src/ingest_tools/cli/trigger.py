"""ingest trigger PROVIDER.EVENT: send a realistic sample delivery, signed as the provider signs it.

Like stripe trigger, for every provider the service verifies: the sample (a shipped file shaped as
the provider documents that event, with fresh ids and the current time) is signed with the
source's scheme and first secret from the sources document (--sources FILE, else $SOURCES) and
POSTed to /webhooks/NAME of a local or deployed API. NAME is --webhook, else the source named
after the provider, else the one source of that provider's scheme.

  ingest trigger --list                          every sample, one per line
  ingest trigger github.push --sources sources.yaml
  ingest trigger stripe.invoice.paid --webhook billing --url https://ingest.example.com
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ingest_tools.cli import common

if TYPE_CHECKING:
    from ingest_tools.samples import Sample


def register(commands: Any) -> None:
    parser = common.add_command(
        commands, "trigger", "send a provider's signed sample delivery (--list them)", __doc__
    )
    parser.add_argument(
        "sample", nargs="?", metavar="PROVIDER.EVENT", help="the sample to send, e.g. github.push"
    )
    parser.add_argument("--list", action="store_true", help="list the samples and exit")
    common.add_url_option(parser, what="API base URL")
    parser.add_argument(
        "--id",
        dest="delivery_id",
        help="the delivery id, where the provider sends it in a header (default: a new one)",
    )
    common.add_retries_option(parser, 0)
    from ingest_tools.cli.send import add_webhook_options

    add_webhook_options(parser)
    parser.set_defaults(func=run)


def _sample(name: str) -> Sample:
    from ingest_tools.samples import catalog

    samples = catalog()
    if name in samples:
        return samples[name]
    provider = name.split(".", 1)[0]
    same = [s.event for s in samples.values() if s.provider == provider]
    if same:
        raise common.CliError(
            f"no sample {name!r}: {provider} has {', '.join(same)} (ingest trigger --list)", 2
        )
    providers = sorted({s.provider for s in samples.values()})
    raise common.CliError(f"no provider {provider!r}: samples exist for {', '.join(providers)}", 2)


def _source_name(sample: Sample, args: argparse.Namespace, given: str | None) -> str:
    """The source to deliver to: the one given, else the one named after the provider, else the
    only source with the provider's scheme. A source of another scheme is refused."""
    from ingest_tools.cli.send import SigningError, Webhook, local_defaults, read_sources

    try:
        defaults = local_defaults(Webhook(sample.provider, b"", sources=args.sources))
        sources = read_sources(defaults.sources).sources
    except SigningError as exc:
        raise common.CliError(str(exc), 2) from None
    if given is None:
        if sample.provider in sources:
            given = sample.provider
        else:
            same = [name for name, config in sources.items() if config.scheme == sample.provider]
            if len(same) != 1:
                return sample.provider  # the signing step says what is missing
            given = same[0]
    config = sources.get(given)
    if config is not None and config.scheme != sample.provider:
        raise common.CliError(
            f"source {given!r} verifies {config.scheme} deliveries, not {sample.provider}: "
            f"give --webhook NAME of a {sample.provider} source",
            2,
        )
    return given


def run(args: argparse.Namespace) -> int:
    from ingest_tools.cli.send import (
        Webhook,
        deliver,
        print_answer,
        webhook_name,
        webhook_request,
    )
    from ingest_tools.samples import catalog

    if args.list:
        for sample in catalog().values():
            print(sample.name)
        return 0
    if not args.sample:
        raise common.CliError(
            "ingest trigger needs PROVIDER.EVENT (ingest trigger --list shows them)", 2
        )
    sample = _sample(args.sample)
    name = _source_name(sample, args, webhook_name(args))
    webhook = Webhook(
        name,
        sample.body(),
        sample.header_type,
        args.delivery_id,
        args.sources,
        args.private_key,
        strict=False,
    )
    body, query, headers = webhook_request(webhook)
    headers = {"User-Agent": "ingest-trigger", "Content-Type": sample.content_type, **headers}
    url = f"{(args.url or common.default_url()).rstrip('/')}/webhooks/{name}" + (
        f"?{query}" if query else ""
    )
    answer = deliver(url, body, headers, retries=args.retries)
    print(f"ingest: sent {sample.name} to {url}", file=sys.stderr)
    return print_answer(answer)
