// Independent check of an RFC 3161 time-stamp token with BouncyCastle's TimeStampToken.validate.
//
// Usage: java -cp bcprov.jar:bcpkix.jar:bcutil.jar:. TstCheck TOKEN.der TSA_CERT.der
//
// Prints one JSON object: {"valid": true|false, "gen_time_ms": N, "serial": "hex",
// "policy": "oid", "imprint_algorithm": "oid", "imprint": "hex", "error": "..."}.
// Exit status 0 when the token validates against the certificate, 1 otherwise, 2 on bad input.
// validate() checks the signature, that the certificate is the one the ESSCertID(v2) names,
// that it carries the critical id-kp-timeStamping extended key usage only, and that genTime
// falls within its validity.

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Security;

import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.tsp.TimeStampToken;
import org.bouncycastle.tsp.TimeStampTokenInfo;
import org.bouncycastle.util.encoders.Hex;

public final class TstCheck {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: TstCheck TOKEN.der TSA_CERT.der");
            System.exit(2);
        }
        Security.addProvider(new BouncyCastleProvider());
        TimeStampToken token;
        X509CertificateHolder cert;
        try {
            token = new TimeStampToken(new CMSSignedData(
                    ContentInfo.getInstance(Files.readAllBytes(Path.of(args[0])))));
            cert = new X509CertificateHolder(Files.readAllBytes(Path.of(args[1])));
        } catch (Exception e) {
            System.out.println("{\"valid\": false, \"error\": " + quote(e.toString()) + "}");
            System.exit(2);
            return;
        }
        TimeStampTokenInfo info = token.getTimeStampInfo();
        String error = null;
        try {
            token.validate(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(cert));
        } catch (Exception e) {
            error = e.toString();
        }
        StringBuilder out = new StringBuilder("{");
        out.append("\"valid\": ").append(error == null);
        out.append(", \"gen_time_ms\": ").append(info.getGenTime().getTime());
        out.append(", \"serial\": ").append(quote(info.getSerialNumber().toString(16)));
        out.append(", \"policy\": ").append(quote(info.getPolicy().getId()));
        out.append(", \"imprint_algorithm\": ")
                .append(quote(info.getMessageImprintAlgOID().getId()));
        out.append(", \"imprint\": ").append(quote(Hex.toHexString(info.getMessageImprintDigest())));
        if (error != null) {
            out.append(", \"error\": ").append(quote(error));
        }
        out.append("}");
        System.out.println(out);
        System.exit(error == null ? 0 : 1);
    }

    /** A JSON string literal (CmsCheck uses it too). */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
