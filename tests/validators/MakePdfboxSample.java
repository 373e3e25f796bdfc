// Signs a PDF with Apache PDFBox 2 and BouncyCastle, the stack many e-signing products build
// on: PDFBox writes the signature field and the incremental update, BouncyCastle the CMS
// (CMSSignedData.getEncoded(): BER with indefinite lengths), SM2-with-SM3 or ECDSA P-256.
//
// Usage: java -cp bcprov.jar:bcpkix.jar:bcutil.jar:pdfbox2.jar:fontbox2.jar:commons-logging.jar:.
//        MakePdfboxSample OUT_DIR INPUT.pdf sm2|p256
// Writes OUT_DIR/pdfbox-CURVE-signed.pdf, OUT_DIR/pdfbox-CURVE-ca.pem (the root) and
// OUT_DIR/pdfbox-CURVE-signer.pem (the end entity it issued, which signed). Key and
// certificate making is MakeSm2Sample's. Not a signer to copy: it exists so that inkseal's
// verifier and signer meet a signature made by tools nobody on the team wrote.

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.Security;
import java.util.Calendar;

import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.PDSignature;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.SignatureInterface;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.SignatureOptions;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

public final class MakePdfboxSample {
    public static void main(String[] args) throws Exception {
        if (args.length != 3 || !args[2].matches("sm2|p256")) {
            System.err.println("usage: MakePdfboxSample OUT_DIR INPUT.pdf sm2|p256");
            System.exit(2);
        }
        boolean p256 = args[2].equals("p256");
        String prefix = "pdfbox-" + args[2];
        String algorithm = p256 ? "SHA256withECDSA" : "SM3withSM2";
        Security.addProvider(new BouncyCastleProvider());
        Path out = Path.of(args[0]);
        Files.createDirectories(out);

        String caName = "CN=Inkseal PDFBox " + args[2] + " Test CA,O=inkseal";
        String signerName = "CN=Inkseal PDFBox " + args[2] + " Test Signer,O=inkseal";
        KeyPair caKey = MakeSm2Sample.keyPair(p256);
        X509CertificateHolder ca =
                MakeSm2Sample.issue(caName, caKey.getPublic(), caName, caKey.getPrivate(), true, algorithm);
        KeyPair signerKey = MakeSm2Sample.keyPair(p256);
        X509CertificateHolder signer = MakeSm2Sample.issue(signerName, signerKey.getPublic(), caName,
                caKey.getPrivate(), false, algorithm);

        SignatureInterface cms = new SignatureInterface() {
            @Override
            public byte[] sign(InputStream content) throws IOException {
                try {
                    CMSSignedData signed = MakeSm2Sample.detached(content.readAllBytes(), algorithm,
                            signerKey.getPrivate(), signer);
                    // What PDFBox's own examples embed: BER, indefinite lengths.
                    return signed.getEncoded();
                } catch (Exception e) {
                    throw new IOException(e);
                }
            }
        };
        try (PDDocument doc = PDDocument.load(new File(args[1]))) {
            PDSignature signature = new PDSignature();
            signature.setFilter(PDSignature.FILTER_ADOBE_PPKLITE);
            signature.setSubFilter(PDSignature.SUBFILTER_ETSI_CADES_DETACHED);
            signature.setName("PDFBox Signer");
            signature.setReason("counterparty");
            signature.setSignDate(Calendar.getInstance());
            SignatureOptions options = new SignatureOptions();
            options.setPreferredSignatureSize(16384);
            doc.addSignature(signature, cms, options);
            try (FileOutputStream file = new FileOutputStream(out.resolve(prefix + "-signed.pdf").toFile())) {
                doc.saveIncremental(file);
            }
            options.close();
        }
        Files.writeString(out.resolve(prefix + "-ca.pem"), MakeSm2Sample.pem(ca));
        Files.writeString(out.resolve(prefix + "-signer.pem"), MakeSm2Sample.pem(signer));
    }
}
