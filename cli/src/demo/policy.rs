//! The e-policy: the insurer certifies it with its P-256 seal (DocMDP P=2, with an empty
//! signature field left for the policy-holder, since P=2 lets later signers fill existing
//! fields but not add new ones), the policy-holder co-signs that field after identity proofing
//! and a liveness check bound to the document, and the backend makes it B-LTA with a P-256
//! document time-stamp, so that validators without SM2 (pyHanko, Adobe) check the seal, the
//! certification and the archive time-stamp.

use super::party::{Binding, capture_hooks, cosign_time_stamped, handwriting, ticket};
use super::{Demo, err, now_secs};
use inkseal_pdf::cms::SignatureAlgorithm;
use inkseal_pdf::sign::{Certification, EmptyField, Placement, SignOptions};
use inkseal_sdk::seal::{
    ROUND_SEAL_POINTS, SealLook, SealOrder, seal_appearance, seal_sign_options,
};
use inkseal_sdk::{CaptureRequest, Pin};

/// The e-policy the insurer issues (tests/data, from shared/fixtures).
const POLICY: &[u8] = include_bytes!("../../../tests/data/e-policy-zh.pdf");

const INSURER: &str = "华安财产保险股份有限公司";
const INSURER_CREDIT_CODE: &str = "91310000607313975A";

/// The box right after `label` on its page, `[x, y, w, h]`, for a field made in advance.
fn box_after(input: &[u8], label: &str, size: [f64; 2]) -> Result<(u32, [f64; 4]), String> {
    let doc = inkseal_pdf::Document::load(input, &Default::default()).map_err(err)?;
    for (i, page) in inkseal_pdf::pages::pages(&doc)
        .map_err(err)?
        .iter()
        .enumerate()
    {
        if let Some(hit) = inkseal_pdf::text::find_text(&doc, page, label)
            .map_err(err)?
            .first()
        {
            let mid = (hit.rect[1] + hit.rect[3]) / 2.0;
            let x = (hit.rect[2] + 4.0).min(page.crop_box[2] - size[0]);
            return Ok((i as u32 + 1, [x, mid - size[1] / 2.0, size[0], size[1]]));
        }
    }
    Err(format!("the policy has no {label} line"))
}

pub(super) async fn run(demo: &Demo) -> Result<(), String> {
    let client = &demo.client;
    let dir = &demo.dir;

    let seal = demo
        .backend
        .create_seal(SealOrder {
            institution: INSURER.into(),
            credit_code: INSURER_CREDIT_CODE.into(),
            purpose: "电子保单专用章".into(),
            algorithm: "ecdsa-p256".into(),
        })
        .await?;
    let look = seal_appearance(
        &seal,
        &SealLook::Drawn {
            font: &demo.font,
            number: None,
        },
    )
    .map_err(err)?;
    let (page, rect) = box_after(POLICY, "投保人（签字）：", [150.0, 55.0])?;
    let mut options = seal_sign_options(
        &seal,
        now_secs(),
        Placement::Keyword {
            text: "保险人（签章）：".into(),
            page: None,
            size: [ROUND_SEAL_POINTS, ROUND_SEAL_POINTS],
        },
        Some(Certification::FormFillingAndSigning),
        look,
    );
    options.field_name = Some("InsurerSeal".into());
    options.time_stamped = true;
    options.empty_fields = vec![EmptyField {
        name: "PolicyHolder".into(),
        page,
        rect,
    }];
    let tail = demo
        .backend
        .seal_pdf(&seal, POLICY, &options, "e-policy-0001.pdf")
        .await?;
    let certified = [POLICY, &tail].concat();
    println!(
        "2. the insurer ({}, operator {}) certifies the e-policy with its seal (电子保单专用章, \
         P-256, credit code {}): DocMDP P=2, time-stamped, with the field PolicyHolder left \
         empty for the policy-holder",
        INSURER, demo.operator, seal.credit_code
    );

    let (ticket_text, _) = ticket(
        &demo.backend,
        "holder-1001",
        "李四",
        Some(inkseal_capture::samples::sample_id_number()),
    )
    .await?;
    let pin = Pin::new("864213");
    let holder = client.enroll(&ticket_text, &pin).await.map_err(err)?;
    let proofing = client
        .capture_evidence(
            &holder.key_id,
            capture_hooks(&dir.join("capture"))?,
            CaptureRequest::default(),
        )
        .await
        .map_err(err)?;
    client
        .request_certificate(&holder.key_id, &pin, Some(proofing.head))
        .await
        .map_err(err)?;
    println!(
        "3. the policy-holder 李四 enrolled on the phone (key {}), proved who they are (ID card, \
         face liveness: {}) and got a certificate for the joint SM2 key",
        holder.key_id, proofing.receipt.reason
    );

    let ink = handwriting(&demo.bank, 2, 0.8)?;
    let mut options = SignOptions::new(now_secs());
    options.placement = Placement::Field("PolicyHolder".into());
    options.reason = Some("投保人签署 / policy-holder signs".into());
    options.appearance.label = vec![format!("投保人 {}", holder.certificate_name)];
    options.appearance.label_font = Some(std::sync::Arc::new(demo.font.clone()));
    ink.sealed.apply_to(&mut options);
    let (tail, head) = cosign_time_stamped(
        client,
        &holder.key_id,
        &pin,
        &certified,
        &options,
        Binding::Liveness {
            hooks_dir: &dir.join("capture"),
        },
    )
    .await?;
    let signed = [certified.as_slice(), &tail].concat();
    println!(
        "4. liveness bound to the certified policy's digest (manifest head {}), handwriting, and \
         the co-signature in the insurer's field: filling a prepared field is what P=2 allows",
        &hex::encode(head.ok_or("no evidence was captured")?)[..16]
    );

    let (path, report) = demo
        .archive_and_verify(
            &signed,
            SignatureAlgorithm::EcdsaP256Sha256,
            "policy-signed.pdf",
        )
        .await?;
    let certification = report
        .signatures
        .iter()
        .find(|s| s.field == "InsurerSeal")
        .and_then(|s| s.certification);
    if certification != Some(2) {
        return Err(format!("the policy is not certified with P=2: {report:#?}"));
    }
    println!(
        "5. {} — B-LTA (a P-256 document time-stamp over the DSS): {} signatures valid and \
         trusted, the certification intact",
        path.display(),
        report.signatures.len()
    );
    for s in &report.signatures {
        println!("    {:<12} {}", s.field, s.signer.as_deref().unwrap_or("?"));
    }
    super::render_page_png(&path, 1, &dir.join("policy-page1.png"));
    let roots = demo.server.service().root_certificates_pem();
    std::fs::write(dir.join("ca-roots.pem"), roots).map_err(err)?;
    println!(
        "6. the roots to check it with: {}",
        dir.join("ca-roots.pem").display()
    );
    Ok(())
}
