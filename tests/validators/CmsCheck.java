// Independent check of an attached CMS SignedData (a signed transaction) with BouncyCastle.
//
// Usage: java -cp bcprov.jar:bcpkix.jar:bcutil.jar:. CmsCheck SIGNED.der CA_CERT.der
// (compiled with TstCheck.java, whose JSON quoting it uses)
//
// Prints one JSON object: {"valid": true|false, "signer": "subject", "content_type": "oid",
// "content_hex": "...", "signing_time_ms": N, "signature_algorithm": "oid", "error": "..."}.
// Exit status 0 when the one SignerInfo verifies (SignerInformation.verify: the signature over
// the signed attributes, the message-digest of the encapsulated content, the content-type
// attribute) and the signer certificate is signed by CA_CERT and valid now; 1 otherwise; 2 on
// bad input.
//
// GB/T 35275 names the SM2 signature algorithm sm2sign (1.2.156.10197.1.301.1), which
// BouncyCastle 1.72's CMS name table lacks ("Unknown signature type requested"); the verifier
// here maps it to BouncyCastle's own SM3withSM2, the algorithm the standard says it is, and
// leaves every other name to BouncyCastle.

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Security;
import java.util.Collection;
import java.util.Date;

import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.asn1.cms.Time;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.cms.CMSSignatureAlgorithmNameGenerator;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.DefaultCMSSignatureAlgorithmNameGenerator;
import org.bouncycastle.cms.SignerInformationVerifier;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.util.encoders.Hex;

public final class CmsCheck {
    private static String quote(String s) {
        return TstCheck.quote(s);
    }

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: CmsCheck SIGNED.der CA_CERT.der");
            System.exit(2);
        }
        Security.addProvider(new BouncyCastleProvider());
        CMSSignedData signed;
        X509CertificateHolder ca;
        try {
            signed = new CMSSignedData(ContentInfo.getInstance(Files.readAllBytes(Path.of(args[0]))));
            ca = new X509CertificateHolder(Files.readAllBytes(Path.of(args[1])));
        } catch (Exception e) {
            System.out.println("{\"valid\": false, \"error\": " + quote(e.toString()) + "}");
            System.exit(2);
            return;
        }
        StringBuilder out = new StringBuilder("{");
        String error = null;
        try {
            Collection<SignerInformation> signers = signed.getSignerInfos().getSigners();
            if (signers.size() != 1) {
                throw new IllegalStateException(signers.size() + " SignerInfos, expected 1");
            }
            SignerInformation si = signers.iterator().next();
            @SuppressWarnings("unchecked")
            Collection<X509CertificateHolder> matches = signed.getCertificates().getMatches(si.getSID());
            if (matches.isEmpty()) {
                throw new IllegalStateException("the signer certificate is not embedded");
            }
            X509CertificateHolder cert = matches.iterator().next();
            out.append("\"signer\": ").append(quote(cert.getSubject().toString())).append(", ");
            out.append("\"content_type\": ")
                    .append(quote(signed.getSignedContentTypeOID())).append(", ");
            byte[] content = (byte[]) signed.getSignedContent().getContent();
            out.append("\"content_hex\": ").append(quote(Hex.toHexString(content))).append(", ");
            out.append("\"signature_algorithm\": ").append(quote(si.getEncryptionAlgOID())).append(", ");
            Attribute time = si.getSignedAttributes().get(CMSAttributes.signingTime);
            if (time != null) {
                ASN1Encodable value = time.getAttrValues().getObjectAt(0);
                out.append("\"signing_time_ms\": ")
                        .append(Time.getInstance(value).getDate().getTime()).append(", ");
            }
            DefaultCMSSignatureAlgorithmNameGenerator names = new DefaultCMSSignatureAlgorithmNameGenerator();
            ASN1ObjectIdentifier sm2sign = new ASN1ObjectIdentifier("1.2.156.10197.1.301.1");
            CMSSignatureAlgorithmNameGenerator gbt35275 = (digest, encryption) ->
                    sm2sign.equals(encryption.getAlgorithm())
                            ? "SM3WITHSM2"
                            : names.getSignatureName(digest, encryption);
            SignerInformationVerifier verifier = new SignerInformationVerifier(
                    gbt35275,
                    new DefaultSignatureAlgorithmIdentifierFinder(),
                    new JcaContentVerifierProviderBuilder().setProvider("BC").build(cert),
                    new JcaDigestCalculatorProviderBuilder().setProvider("BC").build());
            if (!si.verify(verifier)) {
                throw new IllegalStateException("SignerInformation.verify returned false");
            }
            if (!cert.getIssuer().equals(ca.getSubject())
                    || !cert.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider("BC").build(ca))) {
                throw new IllegalStateException("the signer certificate is not signed by the CA");
            }
            if (!cert.isValidOn(new Date())) {
                throw new IllegalStateException("the signer certificate is not valid now");
            }
        } catch (Exception e) {
            error = e.toString();
        }
        out.append("\"valid\": ").append(error == null);
        if (error != null) {
            out.append(", \"error\": ").append(quote(error));
        }
        out.append("}");
        System.out.println(out);
        System.exit(error == null ? 0 : 1);
    }
}
