//! The loan contract, every line of it: the backend stamps the signing date; the borrower
//! (identity proofing, liveness bound to the document, handwriting) and the loan officer (a
//! second key on the same tablet, handwriting) co-sign; the lender stamps its contract seal
//! through the sealing service, with the paging seal across every page; the backend makes
//! the whole document B-LTA; the signatures are verified, the signature page rendered, the
//! borrower's evidence exported.

use super::party::{Binding, cosign_time_stamped, handwriting, ticket};
use super::{Demo, err, now_secs};
use inkseal_pdf::sign::{PagingSeal, Placement, SignOptions};
use inkseal_pdf::stamp::{Stamp, stamp};
use inkseal_sdk::seal::{
    ROUND_SEAL_POINTS, SealLook, SealOrder, seal_appearance, seal_sign_options,
};
use inkseal_sdk::{CaptureRequest, Pin, SdkError};

/// The contract the demo signs (tests/data, from shared/fixtures).
const CONTRACT: &[u8] = include_bytes!("../../../tests/data/loan-contract-zh.pdf");

/// The lender: its registered name and unified social credit code.
const LENDER: &str = "上海浦江商业银行股份有限公司";
const LENDER_CREDIT_CODE: &str = "91310000132200821H";

/// The signing date written into `签署日期：    年   月   日`: the digits of the year, month
/// and day set just before 年, 月 and 日 on that line.
fn stamp_date(demo: &Demo, input: &[u8], unix: u64) -> Result<Vec<u8>, String> {
    let doc = inkseal_pdf::Document::load(input, &Default::default()).map_err(err)?;
    let pages = inkseal_pdf::pages::pages(&doc).map_err(err)?;
    for (i, page) in pages.iter().enumerate() {
        let Some(label) = inkseal_pdf::text::find_text(&doc, page, "签署日期")
            .map_err(err)?
            .into_iter()
            .next()
        else {
            continue;
        };
        let line = (label.rect[1] + label.rect[3]) / 2.0;
        let size = label.font_size.max(8.0);
        let date =
            der::DateTime::from_unix_duration(std::time::Duration::from_secs(unix)).map_err(err)?;
        let mut stamps = Vec::new();
        for (unit, value) in [
            ("年", date.year().to_string()),
            ("月", date.month().to_string()),
            ("日", date.day().to_string()),
        ] {
            let hit = inkseal_pdf::text::find_text(&doc, page, unit)
                .map_err(err)?
                .into_iter()
                .find(|h| {
                    h.rect[0] > label.rect[2] && ((h.rect[1] + h.rect[3]) / 2.0 - line).abs() < 3.0
                })
                .ok_or_else(|| format!("the date line has no {unit}"))?;
            let art = inkseal_pdf::seal::text_line(&demo.font, &value, size, [0.05, 0.05, 0.05])
                .map_err(err)?;
            let [w, _] = art.size();
            stamps.push(Stamp {
                page: i as u32 + 1,
                at: [hit.rect[0] - w - size * 0.3, label.rect[1] - size * 0.1],
                art,
            });
        }
        return stamp(input, &stamps, &Default::default()).map_err(err);
    }
    Err("the contract has no 签署日期 line".into())
}

pub(super) async fn run(demo: &Demo) -> Result<(), String> {
    let client = &demo.client;
    let backend = &demo.backend;
    let dir = &demo.dir;
    let signing_time = now_secs();

    // The backend prepares the contract: the signing date is page content, so it is written
    // before anyone signs.
    let dated = [CONTRACT, &stamp_date(demo, CONTRACT, signing_time)?].concat();
    println!(
        "2. the bank's backend writes today's date on the contract's 签署日期 line (glyph outlines \
         from the seal font: no font needed to read it) before anyone signs"
    );

    // The borrower.
    let user_id = "customer-0042";
    let (ticket_text, ticket_id) = ticket(
        backend,
        user_id,
        "张三",
        Some(inkseal_capture::samples::sample_id_number()),
    )
    .await?;
    println!(
        "3. the backend (operator {}) checked the customer and issued enrollment ticket \
         {ticket_id} for user {user_id}, certificate name 张三, ID number bound as a keyed hash \
         (never stored)",
        demo.operator
    );
    let pin = Pin::new("246810");
    let weak = if demo.p256 {
        client
            .enroll_p256(&ticket_text, &Pin::new("123456"))
            .await
            .map(|_| ())
    } else {
        client
            .enroll(&ticket_text, &Pin::new("123456"))
            .await
            .map(|_| ())
    };
    match weak {
        Err(SdkError::PinRejected(why)) => println!("4. PIN 123456 is refused: {why}"),
        other => return Err(format!("expected a weak-PIN refusal, got {other:?}")),
    }
    let (key, certificate_name) = if demo.p256 {
        use p256::elliptic_curve::sec1::ToSec1Point as _;
        let enrollment = client.enroll_p256(&ticket_text, &pin).await.map_err(err)?;
        println!(
            "   enrolled with the ticket: key {} (chosen by the server), joint P-256 public key \
             {} made by two-party key generation (DKLs23, two round trips); the tablet and the \
             server each hold a share (the server's sealed), neither alone can sign",
            enrollment.key_id,
            hex::encode(enrollment.public_key.to_sec1_point(false).as_bytes())
        );
        (enrollment.key_id, enrollment.certificate_name)
    } else {
        let enrollment = client.enroll(&ticket_text, &pin).await.map_err(err)?;
        println!(
            "   enrolled with the ticket: key {} (chosen by the server), joint SM2 public key {}; \
             the tablet holds d1 and a P-256 device key that signs every request, the server \
             holds d2 (sealed); neither alone can sign",
            enrollment.key_id,
            hex::encode(enrollment.public_key.to_sec1_bytes())
        );
        (enrollment.key_id, enrollment.certificate_name)
    };
    let proofing = client
        .capture_evidence(
            &key,
            super::party::capture_hooks(&dir.join("capture"))?,
            CaptureRequest::default(),
        )
        .await
        .map_err(err)?;
    let card = proofing
        .id_card
        .as_ref()
        .ok_or("the ID card was not captured")?;
    println!(
        "5. identity proofing: ID card {} checked (check digit, dates, the number the bank \
         bound), face liveness judged by the server: {}",
        card.id_number.masked(),
        proofing.receipt.reason
    );
    let (cert, ca) = if demo.p256 {
        client
            .request_certificate_p256(&key, &pin, Some(proofing.head))
            .await
    } else {
        client
            .request_certificate(&key, &pin, Some(proofing.head))
            .await
    }
    .map_err(err)?;
    let ca_path = dir.join("ca-cert.pem");
    std::fs::write(&ca_path, inkseal_pki::der_to_pem("CERTIFICATE", &ca)).map_err(err)?;
    std::fs::write(
        dir.join("borrower-cert.pem"),
        inkseal_pki::der_to_pem("CERTIFICATE", &cert),
    )
    .map_err(err)?;
    println!(
        "   certificate for {} issued to the joint key after a co-signed CSR (CA: {})",
        certificate_name,
        ca_path.display()
    );

    let borrower_ink = handwriting(&demo.bank, 3, 1.0)?;
    std::fs::write(dir.join("signature.png"), &borrower_ink.png).map_err(err)?;
    let mut options = SignOptions::new(signing_time);
    options.field_name = Some("Borrower".into());
    options.placement = Placement::Keyword {
        text: "借款人（签字）：".into(),
        page: None,
        size: [150.0, 55.0],
    };
    options.reason = Some("借款人签署 / borrower signs".into());
    options.appearance.label = vec![format!("借款人 {certificate_name}")];
    options.appearance.label_font = Some(std::sync::Arc::new(demo.font.clone()));
    borrower_ink.sealed.apply_to(&mut options);
    let prepared = client.prepare_pdf(&key, &dated, &options).map_err(err)?;
    match client
        .sign_prepared_pdf(&pin, &prepared, Some(proofing.head))
        .await
    {
        Err(SdkError::EvidenceRequired(why)) => println!(
            "6. handwriting ({} points over {} ms, the raw record sealed to the bank's SM2 key); \
             signing the contract with the identity-proofing evidence is refused by the server: {why}",
            borrower_ink.points, borrower_ink.duration_ms
        ),
        other => return Err(format!("expected a policy refusal, got {other:?}")),
    }
    let (tail, evidence_head) = cosign_time_stamped(
        client,
        &key,
        &pin,
        &dated,
        &options,
        Binding::Liveness {
            hooks_dir: &dir.join("capture"),
        },
    )
    .await?;
    let evidence_head = evidence_head.ok_or("no evidence was captured")?;
    let borrower_signed = [dated.as_slice(), &tail].concat();
    println!(
        "7. fresh liveness bound to the dated contract's digest (manifest head {}), one \
         co-signing round, then one more for the signature time-stamp (PAdES B-T): \
         the borrower has signed",
        &hex::encode(evidence_head)[..16]
    );

    // The loan officer: a second key on the same tablet. Staff sign after the bank's own
    // login, so the backend sets that key's policy to need no liveness check.
    let (officer_ticket, _) = ticket(backend, "officer-0007", "赵六", None).await?;
    let officer_pin = Pin::new("135792");
    let officer = client
        .enroll(&officer_ticket, &officer_pin)
        .await
        .map_err(err)?;
    backend
        .json(
            reqwest::Method::PUT,
            &format!("/v1/admin/keys/{}/policy", officer.key_id),
            Some(serde_json::json!({
                "require_liveness": false,
                "max_evidence_age_secs": 600,
            })),
        )
        .await?;
    client
        .request_certificate(&officer.key_id, &officer_pin, None)
        .await
        .map_err(err)?;
    let officer_ink = handwriting(&demo.bank, 2, 1.6)?;
    let mut options = SignOptions::new(now_secs());
    options.field_name = Some("LoanOfficer".into());
    options.placement = Placement::Keyword {
        text: "贷款经办人（签字）：".into(),
        page: None,
        size: [150.0, 55.0],
    };
    options.reason = Some("贷款经办人签署 / loan officer signs".into());
    options.appearance.label = vec![format!("经办人 {}", officer.certificate_name)];
    options.appearance.label_font = Some(std::sync::Arc::new(demo.font.clone()));
    officer_ink.sealed.apply_to(&mut options);
    let (tail, _) = cosign_time_stamped(
        client,
        &officer.key_id,
        &officer_pin,
        &borrower_signed,
        &options,
        Binding::PinOnly,
    )
    .await?;
    let officer_signed = [borrower_signed.as_slice(), &tail].concat();
    println!(
        "8. the loan officer 赵六 enrolled a second key on the same tablet (ticket without an ID \
         number; the backend set the key's policy to PIN only), wrote a signature and co-signed \
         on the officer's line (B-T)"
    );

    // The lender's contract seal through the sealing service, with the paging seal.
    let seal = backend
        .create_seal(SealOrder {
            institution: LENDER.into(),
            credit_code: LENDER_CREDIT_CODE.into(),
            purpose: "合同专用章".into(),
            algorithm: "sm2".into(),
        })
        .await?;
    let look = seal_appearance(
        &seal,
        &SealLook::Drawn {
            font: &demo.font,
            number: Some("3101150012345".into()),
        },
    )
    .map_err(err)?;
    let mut options = seal_sign_options(
        &seal,
        now_secs(),
        Placement::Keyword {
            text: "贷款人（盖章）：".into(),
            page: None,
            size: [ROUND_SEAL_POINTS, ROUND_SEAL_POINTS],
        },
        None,
        look.clone(),
    );
    options.field_name = Some("LenderSeal".into());
    options.time_stamped = true;
    options.paging_seal = Some(PagingSeal {
        appearance: look,
        size: [ROUND_SEAL_POINTS, ROUND_SEAL_POINTS],
        center_y: None,
    });
    let tail = backend
        .seal_pdf(&seal, &officer_signed, &options, "loan-contract-0042.pdf")
        .await?;
    let sealed = [officer_signed.as_slice(), &tail].concat();
    println!(
        "9. the lender's contract seal (合同专用章, SM2 key sealed by the server's vault, \
         organisation certificate with credit code {}) stamped through the sealing service: \
         only the digest left the backend; the same signature shows a paging seal (骑缝章) \
         slice on the edge of every page; time-stamped by the server's TSA",
        seal.credit_code
    );

    // The whole document to B-LTA: every path's OCSP responses in the DSS, then a document
    // time-stamp over it all.
    let (signed_path, report) = demo
        .archive_and_verify(
            &sealed,
            inkseal_pdf::cms::SignatureAlgorithm::Sm2Sm3,
            "contract-signed.pdf",
        )
        .await?;
    let by_field = |name: &str| report.signatures.iter().find(|s| s.field == name);
    if by_field("Borrower").and_then(|s| s.ink_binding) != Some(true)
        || by_field("LenderSeal").map(|s| s.pages.len()) != Some(3)
    {
        return Err(format!(
            "the signed contract is not what was signed: {report:#?}"
        ));
    }
    println!(
        "10. {} — {} signatures, every one valid and trusted, with a trusted time-stamp and \
         revocation data inside (B-LTA):",
        signed_path.display(),
        report.signatures.len()
    );
    for s in &report.signatures {
        println!(
            "    {:<12} {:<60} pages {:?}",
            s.field,
            s.signer.as_deref().unwrap_or("?"),
            s.pages
        );
    }
    super::render_page_png(&signed_path, 3, &dir.join("contract-page3.png"));

    let wrong = if demo.p256 {
        client
            .sign_message_p256(&key, &Pin::new("000000"), b"a wrong PIN", None)
            .await
            .map(|_| ())
    } else {
        client
            .sign_message(&key, &Pin::new("000000"), b"a wrong PIN", None)
            .await
            .map(|_| ())
    };
    match wrong {
        Err(SdkError::WrongPin { attempts_left }) => println!(
            "11. a wrong PIN is refused by the server: {attempts_left} attempt(s) left before the key locks"
        ),
        other => return Err(format!("expected a wrong-PIN refusal, got {other:?}")),
    }
    super::export_evidence(demo, &key, evidence_head).await
}
