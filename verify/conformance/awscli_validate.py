#!/usr/bin/env python3
"""Run awscli's own `aws cloudtrail validate-logs` code over a local export.

The reference for `forensic verify` is the validator shipped with the
installed awscli (awscli/customizations/cloudtrail/validation.py). This
script runs that code unchanged -- CloudTrailValidateLogs._run_main, i.e.
handle_args, setup_services, _call with its log-download loop, the real
S3ClientProvider, create_digest_traverser, DigestProvider, DigestTraverser,
PublicKeyProvider and Sha256RSADigestValidator -- and replaces only the AWS
clients. The botocore "session" handed to the command is a FakeSession whose
create_client returns:

  s3             FakeS3 over <root>/<bucket>/<key>:
                 get_bucket_location; list_objects (Marker, Prefix, MaxKeys,
                 keys in byte order, IsTruncated) driven through botocore's
                 real Paginator with S3's real ListObjects paginator config,
                 so page_iterator.search('Contents[*].Key') is botocore's;
                 get_object returning Body (botocore StreamingBody over the
                 open file) and Metadata = the "Metadata" member of
                 <key>.metadata.json (head-object output), {} when that
                 sidecar is absent, as S3 returns for an object without
                 user metadata; a missing file raises ClientError NoSuchKey.
                 Sidecars (*.metadata.json, *.attributes.json) and
                 *.versions folders are never listed as objects.
  cloudtrail     FakeCloudTrail: list_public_keys(StartTime, EndTime) from
                 <root>/keys/<cli region>/list-public-keys.json, returning
                 the keys whose validity window overlaps [StartTime,
                 EndTime] (a missing end = still valid), Value passed through
                 as exported; describe_trails returning the one trail given
                 on the command line.
  organizations  FakeOrganizations: describe_organization -> --org-id.

For an organization trail (--org-id) the command is run without --s3-bucket
so that awscli takes its own describe_trails / describe_organization path to
build the AWSLogs/<o-id>/<account>/ prefix, exactly as online.

No network: every other client request, botocore Session.create_client and
socket connect/getaddrinfo raise NetworkAttempt (a BaseException, so
awscli's broad `except Exception` cannot swallow it); the script then exits 3.

Verdicts are captured at the function level: CloudTrailValidateLogs.
_write_status, through which awscli writes every "valid" line (stdout with
--verbose) and every "INVALID" and gap line (stderr), is replaced by a
recorder; its tab-separated message is split into kind, s3://bucket/key and
status. The startup and summary text awscli writes to stdout is captured too.

Output (--json): {"digests": [{"s3_bucket", "s3_key", "verdict": "valid" |
"invalid", "message", "backfill"}], "logs": [...same...], "gaps": [message],
"other": [unparsed status lines], "summary": {"valid_digests",
"invalid_digests", "valid_backfill_digests", "invalid_backfill_digests",
"valid_logs", "invalid_logs", "exit_code", "awscli_version"}, "calls":
{client method: count}, "text": awscli's stdout, "error": fatal error or
null, "seconds": wall time of _run_main}. Without --json the lines are
printed as awscli prints them. Exit status: 0 all valid, 1 something
invalid (awscli's rule), 2 awscli stopped with an error, 3 network attempt.
"""

import argparse
import contextlib
import datetime
import io
import json
import os
import socket
import sys
import time

try:
    import awscli
    import botocore
    import botocore.paginate
    import botocore.response
    import botocore.session
    from awscli.customizations.cloudtrail import validation
    from botocore.exceptions import ClientError
except ImportError as e:  # pragma: no cover - reported to the Go test
    sys.stderr.write(
        f"awscli_validate: error: cannot import awscli/botocore ({e}); "
        "install awscli 1.x for this python3\n"
    )
    sys.exit(4)


class NetworkAttempt(BaseException):
    """Raised on any attempt to reach AWS. Not an Exception on purpose."""


NETWORK_ATTEMPTS = []


def _refuse(what):
    def refuse(*args, **kwargs):
        NETWORK_ATTEMPTS.append(what)
        raise NetworkAttempt(f"refused network access: {what}")

    return refuse


def guard_network():
    socket.socket.connect = _refuse("socket.connect")
    socket.socket.connect_ex = _refuse("socket.connect_ex")
    socket.create_connection = _refuse("socket.create_connection")
    socket.getaddrinfo = _refuse("socket.getaddrinfo")
    botocore.session.Session.create_client = _refuse(
        "botocore.session.Session.create_client"
    )


def client_error(code, message, operation):
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 404},
        },
        operation,
    )


def is_sidecar(name):
    return name.endswith(".metadata.json") or name.endswith(".attributes.json")


class Counter:
    def __init__(self):
        self.calls = {}

    def count(self, name):
        self.calls[name] = self.calls.get(name, 0) + 1


class FakeS3:
    """The S3 operations validation.py uses, over <root>/<bucket>/<key>."""

    def __init__(self, root, bucket_region, counter):
        self._root = os.path.abspath(root)
        self._bucket_region = bucket_region
        self._counter = counter
        self._listings = {}
        loader = botocore.session.get_session()
        self._list_model = loader.get_service_model("s3").operation_model(
            "ListObjects"
        )
        self._list_paging = loader.get_paginator_model("s3").get_paginator(
            "ListObjects"
        )

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return _refuse(f"s3.{name} (not implemented by the fake)")

    def _bucket_dir(self, bucket):
        if not bucket or "/" in bucket or bucket in (".", ".."):
            raise client_error("InvalidBucketName", bucket, "GetObject")
        d = os.path.join(self._root, bucket)
        if not os.path.isdir(d):
            raise client_error(
                "NoSuchBucket", "The specified bucket does not exist", "ListObjects"
            )
        return d

    def _path(self, bucket, key):
        base = self._bucket_dir(bucket)
        parts = key.split("/")
        if any(p in ("", ".", "..") for p in parts):
            return None
        return os.path.join(base, *parts)

    def get_bucket_location(self, Bucket, **kwargs):
        self._counter.count("s3.get_bucket_location")
        self._bucket_dir(Bucket)
        region = self._bucket_region
        return {"LocationConstraint": None if region == "us-east-1" else region}

    def _keys_under(self, bucket, prefix):
        """Sorted keys (UTF-8 byte order, as S3 lists) starting with prefix."""
        base = self._bucket_dir(bucket)
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        cache = (bucket, folder)
        if cache not in self._listings:
            start = os.path.join(base, *folder.split("/")) if folder else base
            keys = []
            for dirpath, dirnames, filenames in os.walk(start):
                dirnames[:] = [d for d in dirnames if not d.endswith(".versions")]
                rel = os.path.relpath(dirpath, base)
                rel = "" if rel == "." else rel.replace(os.sep, "/") + "/"
                for f in filenames:
                    if not is_sidecar(f):
                        keys.append(rel + f)
            keys.sort(key=lambda k: k.encode("utf-8"))
            self._listings[cache] = keys
        return [k for k in self._listings[cache] if k.startswith(prefix)]

    def list_objects(self, Bucket, Marker="", Prefix="", MaxKeys=1000, **kwargs):
        self._counter.count("s3.list_objects")
        if kwargs.get("Delimiter"):
            raise NetworkAttempt("list_objects with Delimiter is not implemented")
        keys = [
            k
            for k in self._keys_under(Bucket, Prefix or "")
            if not Marker or k.encode("utf-8") > Marker.encode("utf-8")
        ]
        page = keys[:MaxKeys]
        out = {
            "IsTruncated": len(keys) > MaxKeys,
            "Marker": Marker or "",
            "Name": Bucket,
            "Prefix": Prefix or "",
            "MaxKeys": MaxKeys,
        }
        if page:
            out["Contents"] = [
                {
                    "Key": k,
                    "Size": os.path.getsize(self._path(Bucket, k)),
                    "StorageClass": "STANDARD",
                }
                for k in page
            ]
        return out

    def get_paginator(self, operation_name):
        self._counter.count("s3.get_paginator")
        if operation_name != "list_objects":
            raise NetworkAttempt(f"s3 paginator {operation_name} is not implemented")
        return botocore.paginate.Paginator(
            self.list_objects, self._list_paging, self._list_model
        )

    def get_object(self, Bucket, Key, **kwargs):
        self._counter.count("s3.get_object")
        path = self._path(Bucket, Key)
        if path is None or is_sidecar(Key) or not os.path.isfile(path):
            raise client_error(
                "NoSuchKey", "The specified key does not exist.", "GetObject"
            )
        metadata = {}
        sidecar = path + ".metadata.json"
        if os.path.isfile(sidecar):
            with open(sidecar, "rb") as f:
                head = json.load(f)
            # S3 returns user metadata with lower-cased names.
            metadata = {
                str(k).lower(): v for k, v in (head.get("Metadata") or {}).items()
            }
        size = os.path.getsize(path)
        body = botocore.response.StreamingBody(open(path, "rb"), size)
        return {"Body": body, "ContentLength": size, "Metadata": metadata}


def _epoch_or_iso(value):
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)
    return validation.normalize_date(validation.parse_date(str(value)))


class FakeCloudTrail:
    """list_public_keys and describe_trails from the export's key files."""

    def __init__(self, root, region, trail, counter):
        self._keys_file = os.path.join(
            root, "keys", region, "list-public-keys.json"
        )
        self._trail = trail
        self._counter = counter

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return _refuse(f"cloudtrail.{name} (not implemented by the fake)")

    def list_public_keys(self, StartTime=None, EndTime=None, **kwargs):
        self._counter.count("cloudtrail.list_public_keys")
        try:
            with open(self._keys_file, "rb") as f:
                exported = json.load(f)
        except FileNotFoundError:
            exported = {"PublicKeyList": []}
        out = []
        for key in exported.get("PublicKeyList", []):
            start = _epoch_or_iso(key.get("ValidityStartTime"))
            end = _epoch_or_iso(key.get("ValidityEndTime"))
            if EndTime is not None and start is not None and start > EndTime:
                continue
            if StartTime is not None and end is not None and end < StartTime:
                continue
            k = dict(key)
            k["ValidityStartTime"], k["ValidityEndTime"] = start, end
            out.append(k)
        return {"PublicKeyList": out}

    def describe_trails(self, **kwargs):
        self._counter.count("cloudtrail.describe_trails")
        return {"trailList": [self._trail]}


class FakeOrganizations:
    def __init__(self, org_id, counter):
        self._org_id = org_id
        self._counter = counter

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return _refuse(f"organizations.{name} (not implemented by the fake)")

    def describe_organization(self, **kwargs):
        self._counter.count("organizations.describe_organization")
        if not self._org_id:
            raise NetworkAttempt("describe_organization called without --org-id")
        return {"Organization": {"Id": self._org_id}}


class FakeSession:
    """Stands in for the botocore session awscli creates clients from."""

    def __init__(self, clients, counter):
        self._clients = clients
        self._counter = counter

    def create_client(self, service_name, region_name=None, **kwargs):
        self._counter.count(f"create_client.{service_name}")
        if service_name not in self._clients:
            raise NetworkAttempt(f"unexpected client for service {service_name}")
        return self._clients[service_name]

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return _refuse(f"session.{name}")


class RecordingValidateLogs(validation.CloudTrailValidateLogs):
    """awscli's command with its status writer replaced by a recorder."""

    def __init__(self, session):
        super().__init__(session)
        self.records = []

    def _write_status(self, message, is_error=False):
        self.records.append((message, is_error))


def parse_records(records):
    digests, logs, gaps, other = [], [], [], []
    for message, is_error in records:
        backfill = message.startswith("(backfill) ")
        body = message[len("(backfill) "):] if backfill else message
        parts = body.split("\t", 2)
        if (
            len(parts) == 3
            and parts[0] in ("Digest file", "Log file")
            and parts[1].startswith("s3://")
        ):
            bucket, _, key = parts[1][len("s3://"):].partition("/")
            status = parts[2]
            verdict = "valid" if status == "valid" else "invalid"
            item = {
                "s3_bucket": bucket,
                "s3_key": key,
                "verdict": verdict,
                "message": status,
                "backfill": backfill,
            }
            (digests if parts[0] == "Digest file" else logs).append(item)
        elif body.startswith("No log files were delivered by CloudTrail"):
            gaps.append(message)
        else:
            other.append({"message": message, "is_error": is_error})
    return digests, logs, gaps, other


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Run awscli's validate-logs code over a local CloudTrail export."
    )
    ap.add_argument("--root", required=True, help="export root: <root>/<bucket>/<key>, <root>/keys/<region>/")
    ap.add_argument("--bucket", required=True, help="trail bucket")
    ap.add_argument("--prefix", default=None, help="trail key prefix (before AWSLogs/)")
    ap.add_argument("--account-id", default=None, help="account whose digests are validated (org trails: member account)")
    ap.add_argument("--region", required=True, help="CLI region = the delivering region validated")
    ap.add_argument("--trail-arn", default=None)
    ap.add_argument("--trail", default=None, help="trail name (builds the ARN when --trail-arn is absent)")
    ap.add_argument("--home-region", default=None, help="trail home region for the ARN (default --region)")
    ap.add_argument("--trail-account", default=None, help="trail owner for the ARN (default --account-id)")
    ap.add_argument("--start-time", required=True)
    ap.add_argument("--end-time", default=None)
    ap.add_argument("--org-id", default=None, help="organization trail: o-... id")
    ap.add_argument("--json", action="store_true", help="print JSON")
    a = ap.parse_args(argv)

    if not a.trail_arn:
        if not a.trail or not (a.trail_account or a.account_id):
            ap.error("give --trail-arn, or --trail with --account-id/--trail-account")
        a.trail_arn = (
            f"arn:aws:cloudtrail:{a.home_region or a.region}:"
            f"{a.trail_account or a.account_id}:trail/{a.trail}"
        )
    if a.org_id and not a.account_id:
        ap.error("--org-id needs --account-id (the member account)")

    guard_network()
    counter = Counter()
    trail = {
        "Name": a.trail_arn.split("/")[-1],
        "TrailARN": a.trail_arn,
        "S3BucketName": a.bucket,
        "HomeRegion": a.trail_arn.split(":")[3],
        "IsOrganizationTrail": bool(a.org_id),
        "LogFileValidationEnabled": True,
    }
    if a.prefix:
        trail["S3KeyPrefix"] = a.prefix
    session = FakeSession(
        {
            "s3": FakeS3(a.root, trail["HomeRegion"], counter),
            "cloudtrail": FakeCloudTrail(a.root, a.region, trail, counter),
            "organizations": FakeOrganizations(a.org_id, counter),
        },
        counter,
    )
    cmd = RecordingValidateLogs(session)
    args = argparse.Namespace(
        trail_arn=a.trail_arn,
        start_time=a.start_time,
        end_time=a.end_time,
        # Organization trails: let awscli resolve bucket, prefix and the
        # organization id itself (describe_trails, describe_organization).
        s3_bucket=None if a.org_id else a.bucket,
        s3_prefix=None if a.org_id else a.prefix,
        account_id=a.account_id,
        verbose=True,
    )
    parsed_globals = argparse.Namespace(
        region=a.region, verify_ssl=True, endpoint_url=None
    )

    text = io.StringIO()
    error, exit_code = None, None
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stdout(text):
            exit_code = cmd._run_main(args, parsed_globals)
    except NetworkAttempt as e:
        error, exit_code = f"network attempt: {e}", 3
    except Exception as e:  # awscli stopped (e.g. no public keys found)
        error, exit_code = f"{type(e).__name__}: {e}", 2
    seconds = time.perf_counter() - t0
    if NETWORK_ATTEMPTS and exit_code != 3:
        error, exit_code = f"network attempt: {NETWORK_ATTEMPTS[0]}", 3

    digests, logs, gaps, other = parse_records(cmd.records)
    result = {
        "digests": digests,
        "logs": logs,
        "gaps": gaps,
        "other": other,
        "summary": {
            "valid_digests": cmd._valid_digests,
            "invalid_digests": cmd._invalid_digests,
            "valid_backfill_digests": cmd._valid_backfill_digests,
            "invalid_backfill_digests": cmd._invalid_backfill_digests,
            "valid_logs": cmd._valid_logs,
            "invalid_logs": cmd._invalid_logs,
            "exit_code": exit_code,
            "awscli_version": awscli.__version__,
            "botocore_version": botocore.__version__,
            "validation_module": validation.__file__,
        },
        "calls": counter.calls,
        "text": text.getvalue(),
        "error": error,
        "seconds": seconds,
    }
    if a.json:
        json.dump(result, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(text.getvalue())
        for message, is_error in cmd.records:
            (sys.stderr if is_error else sys.stdout).write(message + "\n")
        if error:
            sys.stderr.write(f"awscli_validate: error: {error}\n")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
