// Independent check of every signature in a PDF, with BouncyCastle and no PDF library.
//
// Usage: java -cp bcprov.jar:bcpkix.jar:bcutil.jar:. PdfSigCheck FILE.pdf [TRUST_ANCHOR.pem ...]
//
// Prints one JSON object per signature dictionary on stdout. Exit status: 0 when there is at
// least one signature and every one is valid (and chains to an anchor, when anchors are given),
// 1 otherwise, 2 when the PDF or an anchor file cannot be read.
//
// Deliberately naive about PDF: signature dictionaries are found by scanning the raw bytes
// for /ByteRange, so this shares no parsing code (and no parsing bugs) with the producer.

import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Security;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bouncycastle.asn1.ASN1InputStream;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.util.Store;

public final class PdfSigCheck {
    private static final Map<String, String> DIGESTS = Map.of(
            "2.16.840.1.101.3.4.2.1", "SHA-256",
            "1.2.156.10197.1.401", "SM3");
    private static final Map<String, String> SIGNATURES = Map.of(
            "1.2.840.10045.4.3.2", "ECDSA-with-SHA256",
            "1.2.156.10197.1.501", "SM2-with-SM3");

    private static final Pattern BYTE_RANGE =
            Pattern.compile("/ByteRange\\s*\\[\\s*(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s*\\]");
    private static final Pattern OBJ_HEADER = Pattern.compile("\\d+\\s+\\d+\\s+obj\\b");

    /** What is printed for one signature dictionary. */
    static final class Result {
        long[] byteRange;
        boolean coversWholeFile;
        String digestAlgorithm;
        String signatureAlgorithm;
        boolean signatureValid;
        Boolean chainTrusted;
        String signer;
        String error;
        // The signature time-stamp (unsigned attribute id-aa-signatureTimeStampToken), if any:
        // TimeStampToken.validate under the TSA certificate in the token, and its imprint is
        // the digest of this SignerInfo's signature value.
        Boolean timestampValid;
        Long timestampTimeMs;
        String timestampError;
        // The /ByteRange belongs to a document time-stamp (/SubFilter /ETSI.RFC3161).
        boolean documentTimestamp;
    }

    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: PdfSigCheck FILE.pdf [TRUST_ANCHOR.pem ...]");
            System.exit(2);
        }
        Security.addProvider(new BouncyCastleProvider());
        byte[] pdf;
        List<X509CertificateHolder> anchors = new ArrayList<>();
        try {
            pdf = Files.readAllBytes(Path.of(args[0]));
            for (int i = 1; i < args.length; i++) {
                anchors.addAll(readCerts(args[i]));
            }
        } catch (Exception e) {
            System.err.println("PdfSigCheck: cannot read input: " + e);
            System.exit(2);
            return;
        }
        // ISO-8859-1 maps each byte to one char, so string offsets are file offsets.
        String text = new String(pdf, StandardCharsets.ISO_8859_1);
        boolean allOk = true;
        int index = 0;
        for (int at = text.indexOf("/ByteRange"); at >= 0; at = text.indexOf("/ByteRange", at + 1)) {
            Result r = new Result();
            try {
                check(pdf, text, at, anchors, r);
            } catch (Exception e) {
                r.signatureValid = false;
                r.error = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
            if (!r.signatureValid || (!anchors.isEmpty() && !Boolean.TRUE.equals(r.chainTrusted))) {
                allOk = false;
            }
            System.out.println(toJson(index++, r));
        }
        if (index == 0) {
            System.err.println("PdfSigCheck: no /ByteRange found: the file has no signature");
            allOk = false;
        }
        System.exit(allOk ? 0 : 1);
    }

    private static void check(byte[] pdf, String text, int at, List<X509CertificateHolder> anchors,
            Result r) throws Exception {
        Matcher m = BYTE_RANGE.matcher(text);
        if (!m.find(at) || m.start() != at) {
            throw new IllegalArgumentException("malformed /ByteRange array");
        }
        long[] br = new long[4];
        for (int i = 0; i < 4; i++) {
            br[i] = Long.parseLong(m.group(i + 1));
        }
        r.byteRange = br;
        long start = br[1], end = br[2], tailEnd = br[2] + br[3];
        if (br[0] != 0 || start <= 0 || end <= start + 1 || tailEnd > pdf.length) {
            throw new IllegalArgumentException("byte range is not [0, <, >, rest] within the file");
        }
        r.coversWholeFile = tailEnd == pdf.length;

        // The gap must be exactly the /Contents hex string of the dictionary holding this
        // /ByteRange: otherwise the signature would leave unsigned bytes that matter.
        if (pdf[(int) start] != '<' || pdf[(int) end - 1] != '>') {
            throw new IllegalArgumentException("the gap between the ranges is not a <hex> string");
        }
        int key = (int) start - 1;
        while (key >= 0 && Character.isWhitespace(text.charAt(key))) {
            key--;
        }
        if (!text.startsWith("/Contents", key - "/Contents".length() + 1)) {
            throw new IllegalArgumentException("the gap is not the value of a /Contents key");
        }
        int objStart = -1;
        Matcher obj = OBJ_HEADER.matcher(text);
        while (obj.find() && obj.start() < at) {
            objStart = obj.start();
        }
        int objEnd = text.indexOf("endobj", at);
        if (objStart < 0 || objEnd < 0 || start < objStart || end > objEnd) {
            throw new IllegalArgumentException("/Contents and /ByteRange are not in the same object");
        }

        byte[] cms = parseHex(text.substring((int) start + 1, (int) end - 1));
        ByteArrayOutputStream signed = new ByteArrayOutputStream();
        signed.write(pdf, 0, (int) start);
        signed.write(pdf, (int) end, (int) br[3]);

        ContentInfo contentInfo;
        int derLength;
        try (ASN1InputStream in = new ASN1InputStream(cms)) {
            ASN1Primitive first = in.readObject();
            if (first == null) {
                throw new IllegalArgumentException("/Contents is empty");
            }
            contentInfo = ContentInfo.getInstance(first);
            derLength = first.getEncoded().length;
        }
        for (int i = derLength; i < cms.length; i++) {
            if (cms[i] != 0) {
                throw new IllegalArgumentException("non-zero bytes after the CMS object in /Contents");
            }
        }
        if (text.substring(objStart, objEnd).contains("/ETSI.RFC3161")) {
            checkDocumentTimestamp(contentInfo, signed.toByteArray(), anchors, r);
            return;
        }
        CMSSignedData sd = new CMSSignedData(new CMSProcessableByteArray(signed.toByteArray()), contentInfo);
        Collection<SignerInformation> signers = sd.getSignerInfos().getSigners();
        if (signers.size() != 1) {
            throw new IllegalArgumentException("expected exactly one SignerInfo, found " + signers.size());
        }
        SignerInformation si = signers.iterator().next();
        r.digestAlgorithm = DIGESTS.getOrDefault(si.getDigestAlgOID(), si.getDigestAlgOID());
        r.signatureAlgorithm = SIGNATURES.getOrDefault(si.getEncryptionAlgOID(), si.getEncryptionAlgOID());

        @SuppressWarnings("unchecked")
        Store<X509CertificateHolder> store = sd.getCertificates();
        @SuppressWarnings("unchecked")
        Collection<X509CertificateHolder> matches = store.getMatches(si.getSID());
        if (matches.isEmpty()) {
            throw new IllegalArgumentException("the signer certificate is not in the CMS");
        }
        X509CertificateHolder signerCert = matches.iterator().next();
        r.signer = signerCert.getSubject().toString();

        // verify() also recomputes the digest and compares it with the message-digest attribute.
        // For SM2, BC uses the default user ID "1234567812345678" (GM/T 0009) when none is set.
        try {
            r.signatureValid = si.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(signerCert));
            if (!r.signatureValid) {
                r.error = "signature does not verify";
            }
        } catch (Exception e) {
            r.signatureValid = false;
            r.error = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        checkTimestamp(si, r);
        if (!anchors.isEmpty()) {
            String why = chainProblem(signerCert, store.getMatches(null), anchors);
            r.chainTrusted = why == null;
            if (why != null && r.error == null) {
                r.error = "untrusted: " + why;
            }
        }
    }

    /**
     * A document time-stamp (/SubFilter /ETSI.RFC3161): the token validates under the TSA
     * certificate it carries and its imprint is the digest of the signed byte ranges.
     */
    private static void checkDocumentTimestamp(ContentInfo contentInfo, byte[] signed,
            List<X509CertificateHolder> anchors, Result r) throws Exception {
        org.bouncycastle.tsp.TimeStampToken token = new org.bouncycastle.tsp.TimeStampToken(contentInfo);
        @SuppressWarnings("unchecked")
        Collection<X509CertificateHolder> tsa = token.getCertificates().getMatches(token.getSID());
        if (tsa.isEmpty()) {
            throw new IllegalArgumentException("the TSA certificate is not in the token");
        }
        X509CertificateHolder tsaCert = tsa.iterator().next();
        r.signer = tsaCert.getSubject().toString();
        token.validate(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(tsaCert));
        org.bouncycastle.tsp.TimeStampTokenInfo info = token.getTimeStampInfo();
        String alg = DIGESTS.get(info.getMessageImprintAlgOID().getId());
        r.digestAlgorithm = alg;
        r.signatureAlgorithm = SIGNATURES.getOrDefault(
                token.toCMSSignedData().getSignerInfos().getSigners().iterator().next().getEncryptionAlgOID(), "?");
        byte[] expected = java.security.MessageDigest.getInstance(alg, "BC").digest(signed);
        r.documentTimestamp = true;
        r.timestampTimeMs = info.getGenTime().getTime();
        r.timestampValid = java.util.Arrays.equals(expected, info.getMessageImprintDigest());
        r.signatureValid = r.timestampValid;
        if (!r.signatureValid) {
            r.error = "the document time-stamp does not cover the signed bytes";
        }
        if (!anchors.isEmpty()) {
            @SuppressWarnings("unchecked")
            Collection<X509CertificateHolder> pool = token.getCertificates().getMatches(null);
            String why = chainProblem(tsaCert, pool, anchors);
            r.chainTrusted = why == null;
            if (why != null && r.error == null) {
                r.error = "untrusted: " + why;
            }
        }
    }

    private static final org.bouncycastle.asn1.ASN1ObjectIdentifier SIGNATURE_TIME_STAMP =
            new org.bouncycastle.asn1.ASN1ObjectIdentifier("1.2.840.113549.1.9.16.2.14");

    private static void checkTimestamp(SignerInformation si, Result r) {
        org.bouncycastle.asn1.cms.AttributeTable unsigned = si.getUnsignedAttributes();
        if (unsigned == null || unsigned.get(SIGNATURE_TIME_STAMP) == null) {
            return;
        }
        try {
            org.bouncycastle.asn1.cms.Attribute a = unsigned.get(SIGNATURE_TIME_STAMP);
            org.bouncycastle.tsp.TimeStampToken token = new org.bouncycastle.tsp.TimeStampToken(
                    ContentInfo.getInstance(a.getAttrValues().getObjectAt(0)));
            @SuppressWarnings("unchecked")
            Collection<X509CertificateHolder> tsa = token.getCertificates().getMatches(token.getSID());
            if (tsa.isEmpty()) {
                throw new IllegalArgumentException("the TSA certificate is not in the token");
            }
            token.validate(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC")
                    .build(tsa.iterator().next()));
            org.bouncycastle.tsp.TimeStampTokenInfo info = token.getTimeStampInfo();
            String alg = DIGESTS.get(info.getMessageImprintAlgOID().getId());
            if (alg == null) {
                throw new IllegalArgumentException("imprint algorithm " + info.getMessageImprintAlgOID());
            }
            byte[] expected = java.security.MessageDigest.getInstance(alg, "BC").digest(si.getSignature());
            r.timestampTimeMs = info.getGenTime().getTime();
            r.timestampValid = java.util.Arrays.equals(expected, info.getMessageImprintDigest());
            if (!r.timestampValid) {
                r.timestampError = "the time-stamp imprint is not the digest of the signature value";
            }
        } catch (Exception e) {
            r.timestampValid = false;
            r.timestampError = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    /** Walks issuer links from the signer to an anchor; null when that works, else the reason. */
    private static String chainProblem(X509CertificateHolder cert, Collection<X509CertificateHolder> pool,
            List<X509CertificateHolder> anchors) throws Exception {
        Date now = new Date();
        for (int depth = 0; depth < 10; depth++) {
            if (!cert.isValidOn(now)) {
                return "certificate " + cert.getSubject() + " is not valid now";
            }
            if (anchors.contains(cert)) {
                return null;
            }
            X509CertificateHolder issuer = findIssuer(cert, anchors, false);
            if (issuer != null) {
                return issuer.isValidOn(now) ? null : "trust anchor " + issuer.getSubject() + " is not valid now";
            }
            issuer = findIssuer(cert, pool, true);
            if (issuer == null) {
                return "no CA certificate that signed " + cert.getSubject();
            }
            cert = issuer;
        }
        return "chain longer than 10 certificates";
    }

    /** An anchor is trusted as an issuer as it is; an intermediate must say it is a CA. */
    private static X509CertificateHolder findIssuer(X509CertificateHolder cert,
            Collection<X509CertificateHolder> candidates, boolean mustBeCa) {
        for (X509CertificateHolder c : candidates) {
            if (c.getSubject().equals(cert.getIssuer()) && !c.equals(cert)
                    && (!mustBeCa || isCa(c)) && signedBy(cert, c)) {
                return c;
            }
        }
        return null;
    }

    private static boolean isCa(X509CertificateHolder c) {
        BasicConstraints bc = BasicConstraints.fromExtensions(c.getExtensions());
        return bc != null && bc.isCA();
    }

    private static boolean signedBy(X509CertificateHolder cert, X509CertificateHolder issuer) {
        try {
            return cert.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider("BC").build(issuer));
        } catch (Exception e) {
            return false;
        }
    }

    private static List<X509CertificateHolder> readCerts(String path) throws Exception {
        List<X509CertificateHolder> out = new ArrayList<>();
        CertificateFactory cf = CertificateFactory.getInstance("X.509", "BC");
        try (InputStream in = new FileInputStream(path)) {
            for (java.security.cert.Certificate c : cf.generateCertificates(in)) {
                out.add(new X509CertificateHolder(((X509Certificate) c).getEncoded()));
            }
        }
        if (out.isEmpty()) {
            throw new IOException("no certificate in " + path);
        }
        return out;
    }

    private static byte[] parseHex(String hex) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int hi = -1;
        for (char ch : hex.toCharArray()) {
            if (Character.isWhitespace(ch)) {
                continue;
            }
            int v = Character.digit(ch, 16);
            if (v < 0) {
                throw new IllegalArgumentException("non-hex character in /Contents");
            }
            if (hi < 0) {
                hi = v;
            } else {
                out.write(hi << 4 | v);
                hi = -1;
            }
        }
        return out.toByteArray();
    }

    private static String toJson(int index, Result r) {
        StringBuilder s = new StringBuilder("{\"index\":").append(index).append(",\"byte_range\":");
        if (r.byteRange == null) {
            s.append("null");
        } else {
            s.append('[').append(r.byteRange[0]).append(',').append(r.byteRange[1]).append(',')
                    .append(r.byteRange[2]).append(',').append(r.byteRange[3]).append(']');
        }
        s.append(",\"covers_whole_file\":").append(r.coversWholeFile)
                .append(",\"digest_algorithm\":").append(str(r.digestAlgorithm))
                .append(",\"signature_algorithm\":").append(str(r.signatureAlgorithm))
                .append(",\"signature_valid\":").append(r.signatureValid)
                .append(",\"chain_trusted\":").append(r.chainTrusted)
                .append(",\"signer\":").append(str(r.signer))
                .append(",\"timestamp_valid\":").append(r.timestampValid)
                .append(",\"timestamp_time_ms\":").append(r.timestampTimeMs)
                .append(",\"timestamp_error\":").append(str(r.timestampError))
                .append(",\"document_timestamp\":").append(r.documentTimestamp)
                .append(",\"error\":").append(str(r.error)).append('}');
        return s.toString();
    }

    private static String str(String v) {
        if (v == null) {
            return "null";
        }
        StringBuilder s = new StringBuilder("\"");
        for (char c : v.toCharArray()) {
            switch (c) {
                case '"' -> s.append("\\\"");
                case '\\' -> s.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        s.append(String.format("\\u%04x", (int) c));
                    } else {
                        s.append(c);
                    }
                }
            }
        }
        return s.append('"').toString();
    }
}
