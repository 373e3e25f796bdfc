"""PAdES long-term validation with pyHanko's library (ETSI EN 319 102-1 section 5.6.3,
`ades_lta_validation`), offline: revocation data only from the file (its DSS and the
signatures' own attributes), revocation data required for every certificate but the trust
anchors'. pyhanko-cli 0.6 has no command for it.

With `--with-time`, the validation process for signatures with time (section 5.5) instead,
at the validation time, with the revocation data of the file's DSS: what PAdES B-LT (a DSS,
no document time-stamp) can prove.

usage: pyhanko_lta.py PDF [--at ISO-8601] [--with-time] ROOT.pem...
Prints one JSON object per signature (document time-stamps excluded), in file order.
"""

import asyncio
import json
import sys
from datetime import datetime

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
import dataclasses

from pyhanko.sign.validation import ades
from pyhanko.sign.validation.ades import ades_lta_validation, ades_with_time_validation
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager


async def main(argv):
    args = argv[1:]
    at = None
    if "--at" in args:
        i = args.index("--at")
        at = datetime.fromisoformat(args[i + 1])
        del args[i : i + 2]
    with_time = "--with-time" in args
    if with_time:
        args.remove("--with-time")
    pdf, roots = args[0], args[1:]
    trust = SimpleTrustManager.build(trust_roots=[load_cert_from_pemder(r) for r in roots])
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=trust,
                revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
        )
    )
    timing = None
    if at is not None:
        timing = ValidationTimingInfo(
            validation_time=at, best_signature_time=at, point_in_time_validation=False
        )
    with open(pdf, "rb") as f:
        reader = PdfFileReader(f)
        for sig in reader.embedded_regular_signatures:
            if with_time:
                result = await with_time_from_dss(reader, sig, spec.signature_validation_spec, timing)
            else:
                result = await ades_lta_validation(sig, spec, timing_info=timing)
            status = result.api_status
            print(
                json.dumps(
                    {
                        "field": sig.field_name,
                        "indication": result.ades_subindic.status.name
                        if result.ades_subindic
                        else "PASSED",
                        "subindication": result.ades_subindic.name
                        if result.ades_subindic
                        else None,
                        "bottom_line": bool(status.bottom_line) if status else False,
                        "failure": result.failure_msg,
                        "best_signature_time": result.best_signature_time.isoformat()
                        if result.best_signature_time
                        else None,
                        "oldest_evidence_record": result.oldest_evidence_record_timestamp.isoformat()
                        if getattr(result, "oldest_evidence_record_timestamp", None)
                        else None,
                    }
                )
            )


async def with_time_from_dss(reader, sig, spec, timing):
    # The DSS's certificates, OCSP responses and CRLs as local knowledge, as pyHanko's own
    # LTA process ingests them (ades._dss_to_local_knowledge, pyHanko 0.38).
    dss = ades._dss_to_local_knowledge(reader=reader)
    known = spec.local_knowledge
    spec = dataclasses.replace(
        spec,
        local_knowledge=dataclasses.replace(
            known,
            known_ocsps=known.known_ocsps + dss.known_ocsps,
            known_crls=known.known_crls + dss.known_crls,
            known_certs=known.known_certs + dss.known_certs,
        ),
    )
    sig.compute_integrity_info()
    return await ades_with_time_validation(
        signed_data=sig.signed_data,
        validation_spec=spec,
        timing_info=timing,
        raw_digest=sig.compute_digest(),
        extra_status_kwargs=sig.summarise_integrity_info(),
        status_cls=PdfSignatureStatus,
    )


asyncio.run(main(sys.argv))
