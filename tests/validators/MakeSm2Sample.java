// Makes an SM2-with-SM3 (or ECDSA P-256) signed PDF for testing the validators, using
// BouncyCastle alone.
//
// Usage: java -cp bcprov.jar:bcpkix.jar:bcutil.jar:. MakeSm2Sample OUT_DIR [sm2|p256]
// Writes OUT_DIR/sm2-ca.pem (an SM2 root), OUT_DIR/sm2-signer.pem (an SM2 end-entity
// certificate it issued), OUT_DIR/sm2-signed.pdf (a one-page PDF with one detached CMS
// signature by that end entity, DER) and OUT_DIR/sm2-signed-ber.pdf (the same signature as
// BouncyCastle's CMSSignedData.getEncoded() writes it, BER with indefinite lengths, as
// PDFBox- and iText-based signers embed it); with p256, the same as p256-*. Not a signer to
// copy: it exists so that the validators have samples made by a second, independent
// implementation.

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Security;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.util.CollectionStore;

public final class MakeSm2Sample {
    // Room for the CMS in /Contents, in bytes; the hex string is twice that.
    private static final int CONTENTS_BYTES = 8192;
    // Fixed-width placeholder, so offsets do not move when the real numbers are written.
    private static final String BR_PLACEHOLDER = "/ByteRange [0 0000000000 0000000000 0000000000]";

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2 || (args.length == 2 && !args[1].matches("sm2|p256"))) {
            System.err.println("usage: MakeSm2Sample OUT_DIR [sm2|p256]");
            System.exit(2);
        }
        boolean p256 = args.length == 2 && args[1].equals("p256");
        String prefix = p256 ? "p256" : "sm2";
        String algorithm = p256 ? "SHA256withECDSA" : "SM3withSM2";
        Security.addProvider(new BouncyCastleProvider());
        Path out = Path.of(args[0]);
        Files.createDirectories(out);

        String caName = p256 ? "CN=Inkseal BC P-256 Test CA,O=inkseal" : "CN=Inkseal SM2 Test CA,O=inkseal";
        String signerName = p256 ? "CN=Inkseal BC P-256 Test Signer,O=inkseal" : "CN=Inkseal SM2 Test Signer,O=inkseal";
        KeyPair caKey = keyPair(p256);
        X509CertificateHolder ca = issue(caName, caKey.getPublic(), caName, caKey.getPrivate(), true, algorithm);
        KeyPair signerKey = keyPair(p256);
        X509CertificateHolder signer = issue(signerName, signerKey.getPublic(), caName, caKey.getPrivate(), false,
                algorithm);

        byte[] pdf = template().getBytes(StandardCharsets.ISO_8859_1);
        String text = new String(pdf, StandardCharsets.ISO_8859_1);
        int lt = text.indexOf("/Contents <") + "/Contents ".length();
        int gt = text.indexOf('>', lt) + 1;
        String byteRange = String.format("/ByteRange [0 %d %d %d]", lt, gt, pdf.length - gt);
        byteRange += " ".repeat(BR_PLACEHOLDER.length() - byteRange.length());
        int brAt = text.indexOf(BR_PLACEHOLDER);
        System.arraycopy(byteRange.getBytes(StandardCharsets.ISO_8859_1), 0, pdf, brAt, byteRange.length());

        ByteArrayOutputStream signed = new ByteArrayOutputStream();
        signed.write(pdf, 0, lt);
        signed.write(pdf, gt, pdf.length - gt);

        CMSSignedData cms = detached(signed.toByteArray(), algorithm, signerKey.getPrivate(), signer);
        byte[] der = cms.getEncoded("DER");
        byte[] ber = cms.getEncoded();
        if (ber.length < 2 || ber[1] != (byte) 0x80) {
            throw new IllegalStateException("BouncyCastle no longer writes indefinite lengths");
        }
        Files.write(out.resolve(prefix + "-signed.pdf"), withContents(pdf, lt, der));
        Files.write(out.resolve(prefix + "-signed-ber.pdf"), withContents(pdf, lt, ber));
        Files.writeString(out.resolve(prefix + "-ca.pem"), pem(ca));
        Files.writeString(out.resolve(prefix + "-signer.pem"), pem(signer));
    }

    /**
     * A detached CMS SignedData over `content` by `signer` with BouncyCastle's default signed
     * attributes. "SM3withSM2" signs with BC's default SM2 user ID, "1234567812345678" (GM/T 0009).
     */
    static CMSSignedData detached(byte[] content, String algorithm, PrivateKey key,
            X509CertificateHolder signer) throws Exception {
        ContentSigner contentSigner = new JcaContentSignerBuilder(algorithm).setProvider("BC").build(key);
        CMSSignedDataGenerator gen = new CMSSignedDataGenerator();
        gen.addSignerInfoGenerator(new JcaSignerInfoGeneratorBuilder(
                new JcaDigestCalculatorProviderBuilder().setProvider("BC").build())
                .build(contentSigner, signer));
        gen.addCertificates(new CollectionStore<>(List.of(signer)));
        return gen.generate(new CMSProcessableByteArray(content), false);
    }

    /** The PDF with `cms` written, zero-padded, into the /Contents hex string opening at `lt`. */
    private static byte[] withContents(byte[] pdf, int lt, byte[] cms) {
        if (cms.length > CONTENTS_BYTES) {
            throw new IllegalStateException("CMS does not fit in /Contents");
        }
        byte[] copy = pdf.clone();
        byte[] hex = String.format("%0" + (2 * CONTENTS_BYTES) + "x", BigInteger.ZERO).getBytes();
        byte[] sig = toHex(cms).getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(sig, 0, hex, 0, sig.length);
        System.arraycopy(hex, 0, copy, lt + 1, hex.length);
        return copy;
    }

    static KeyPair keyPair(boolean p256) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC", "BC");
        g.initialize(new ECGenParameterSpec(p256 ? "secp256r1" : "sm2p256v1"));
        return g.generateKeyPair();
    }

    static X509CertificateHolder issue(String subject, PublicKey key, String issuer,
            PrivateKey issuerKey, boolean ca, String algorithm) throws Exception {
        long now = System.currentTimeMillis();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name(issuer),
                BigInteger.valueOf(now), new Date(now - 3_600_000L), new Date(now + 86_400_000L * 365),
                new X500Name(subject), key);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(ca
                ? KeyUsage.keyCertSign | KeyUsage.cRLSign
                : KeyUsage.digitalSignature | KeyUsage.nonRepudiation));
        return b.build(new JcaContentSignerBuilder(algorithm).setProvider("BC").build(issuerKey));
    }

    /** A one-page PDF whose signature field already holds a placeholder signature dictionary. */
    private static String template() {
        String contents = "/Contents <" + "0".repeat(2 * CONTENTS_BYTES) + ">";
        String[] objects = {
            "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] /SigFlags 3 >> >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 6 0 R /Annots [4 0 R] >>",
            "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Sig1) /Rect [0 0 0 0] /F 132 /P 3 0 R /V 5 0 R >>",
            "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M (D:20260101000000Z)\n"
                    + BR_PLACEHOLDER + "\n" + contents + " >>",
            "<< /Length 18 >>\nstream\n10 10 180 180 re S\nendstream",
        };
        StringBuilder s = new StringBuilder("%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n");
        int[] offsets = new int[objects.length];
        for (int i = 0; i < objects.length; i++) {
            offsets[i] = s.length();
            s.append(i + 1).append(" 0 obj\n").append(objects[i]).append("\nendobj\n");
        }
        int xref = s.length();
        s.append("xref\n0 ").append(objects.length + 1).append("\n0000000000 65535 f \n");
        for (int off : offsets) {
            s.append(String.format("%010d 00000 n \n", off));
        }
        s.append("trailer\n<< /Size ").append(objects.length + 1).append(" /Root 1 0 R >>\nstartxref\n")
                .append(xref).append("\n%%EOF\n");
        return s.toString();
    }

    static String pem(X509CertificateHolder c) throws Exception {
        return "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(c.getEncoded())
                + "\n-----END CERTIFICATE-----\n";
    }

    private static String toHex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            s.append(String.format("%02X", x));
        }
        return s.toString();
    }
}
