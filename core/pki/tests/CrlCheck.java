// Independent check of an X.509 CRL with BouncyCastle (used by core/pki/tests/crl_interop.rs).
//
// Usage: java -cp bcprov.jar:bcpkix.jar:bcutil.jar CrlCheck.java CA.der CRL.der
//
// Verifies the CRL's signature under the CA certificate's key with BouncyCastle's
// JcaContentVerifierProviderBuilder (for SM2-with-SM3 BouncyCastle applies the GB/T 32918
// default signer ID "1234567812345678", which OpenSSL 3.0's `openssl crl -verify` cannot be
// told), compares the issuer with the CA's subject, and prints what the CRL says, one
// "key: value" line each:
//   signature: valid | invalid
//   issuer: match | mismatch
//   algorithm: <OID>
//   crlNumber: <decimal>
//   thisUpdate: <Unix seconds>
//   nextUpdate: <Unix seconds>
//   revoked: <serial, upper-case hex> <revocation date, Unix seconds> <reason code or "-">
// Exit status: 0 when the signature is valid and the issuer matches, 1 otherwise, 2 when an
// input cannot be read or parsed.

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Security;
import java.util.Collection;

import org.bouncycastle.asn1.ASN1Enumerated;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.X509CRLEntryHolder;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;

public final class CrlCheck {
    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: CrlCheck CA.der CRL.der");
            System.exit(2);
        }
        Security.addProvider(new BouncyCastleProvider());
        X509CertificateHolder ca;
        X509CRLHolder crl;
        try {
            ca = new X509CertificateHolder(Files.readAllBytes(Path.of(args[0])));
            crl = new X509CRLHolder(Files.readAllBytes(Path.of(args[1])));
        } catch (Exception e) {
            System.err.println("cannot read the inputs: " + e);
            System.exit(2);
            return;
        }
        boolean signatureValid;
        try {
            ContentVerifierProvider verifier =
                    new JcaContentVerifierProviderBuilder().setProvider("BC").build(ca);
            signatureValid = crl.isSignatureValid(verifier);
        } catch (Exception e) {
            System.err.println("signature check failed: " + e);
            signatureValid = false;
        }
        boolean issuerMatches = crl.getIssuer().equals(ca.getSubject());
        System.out.println("signature: " + (signatureValid ? "valid" : "invalid"));
        System.out.println("issuer: " + (issuerMatches ? "match" : "mismatch"));
        System.out.println("algorithm: "
                + crl.toASN1Structure().getSignatureAlgorithm().getAlgorithm().getId());
        Extension number = crl.getExtension(Extension.cRLNumber);
        if (number != null) {
            BigInteger value = ASN1Integer.getInstance(number.getParsedValue()).getValue();
            System.out.println("crlNumber: " + value);
        }
        System.out.println("thisUpdate: " + crl.getThisUpdate().getTime() / 1000);
        if (crl.getNextUpdate() != null) {
            System.out.println("nextUpdate: " + crl.getNextUpdate().getTime() / 1000);
        }
        @SuppressWarnings("unchecked")
        Collection<X509CRLEntryHolder> entries = crl.getRevokedCertificates();
        for (X509CRLEntryHolder entry : entries) {
            Extension reason = entry.getExtensions() == null
                    ? null
                    : entry.getExtensions().getExtension(Extension.reasonCode);
            String reasonText = reason == null
                    ? "-"
                    : ASN1Enumerated.getInstance(reason.getParsedValue()).getValue().toString();
            System.out.println("revoked: " + entry.getSerialNumber().toString(16).toUpperCase()
                    + " " + entry.getRevocationDate().getTime() / 1000 + " " + reasonText);
        }
        System.exit(signatureValid && issuerMatches ? 0 : 1);
    }
}
