// Independent digital envelopes (CMS EnvelopedData) with BouncyCastle 1.72, both directions.
//
// Usage: java -cp bcprov.jar:bcpkix.jar:bcutil.jar:. EnvelopeCheck open ENV.der KEY.pem CERT.pem
//        java -cp ... EnvelopeCheck seal OUT.der IN CERT.pem [CERT.pem ...]
// (compiled with TstCheck.java, whose JSON quoting it uses)
//
// open: prints {"ok": true, "content_hex": "...", "content_cipher": "oid",
// "key_encryption": "oid"} or {"ok": false, "error": "..."} (exit 1).
// seal: writes OUT (BER, as CMSEnvelopedData.getEncoded() does) and prints {"ok": true}.
//
// P-256 recipients use BouncyCastle's own classes (JceKeyAgreeEnvelopedRecipient; the
// generator with ECDH sha256kdf, AES-256 wrap and AES-256-CBC). BC 1.72 has no SM2 key
// transport or SM4 content cipher in CMS, so those are wired here from BC primitives, as the
// issue 17 design (section 0.3) describes: SM2Engine in C1C3C2 mode with the GM/T 0009 DER
// SM2Cipher built and read by hand, and SM4/CBC/PKCS5Padding from the BC provider. This proves
// the structure and the primitives interoperate, not that a stock BC product accepts it.

import java.io.FileReader;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Security;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.CipherInputStream;
import javax.crypto.CipherOutputStream;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.cms.IssuerAndSerialNumber;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.CMSAlgorithm;
import org.bouncycastle.cms.CMSEnvelopedData;
import org.bouncycastle.cms.CMSEnvelopedDataGenerator;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.KeyAgreeRecipientInformation;
import org.bouncycastle.cms.KeyTransRecipient;
import org.bouncycastle.cms.KeyTransRecipientInfoGenerator;
import org.bouncycastle.cms.KeyTransRecipientInformation;
import org.bouncycastle.cms.RecipientInformation;
import org.bouncycastle.cms.RecipientOperator;
import org.bouncycastle.cms.jcajce.JceCMSContentEncryptorBuilder;
import org.bouncycastle.cms.jcajce.JceKeyAgreeEnvelopedRecipient;
import org.bouncycastle.cms.jcajce.JceKeyAgreeRecipientInfoGenerator;
import org.bouncycastle.crypto.engines.SM2Engine;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.jcajce.provider.asymmetric.util.ECUtil;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.AsymmetricKeyWrapper;
import org.bouncycastle.operator.GenericKey;
import org.bouncycastle.operator.InputDecryptor;
import org.bouncycastle.operator.OutputEncryptor;
import org.bouncycastle.util.encoders.Hex;

public final class EnvelopeCheck {
    static final ASN1ObjectIdentifier SM2_ENCRYPTION = new ASN1ObjectIdentifier("1.2.156.10197.1.301.3");
    static final ASN1ObjectIdentifier SM2_ENCRYPTION_WITH_SM3 = new ASN1ObjectIdentifier("1.2.156.10197.1.301.3.2.1");
    static final ASN1ObjectIdentifier SM4_CBC = new ASN1ObjectIdentifier("1.2.156.10197.1.104.2");
    static final ASN1ObjectIdentifier SM2_CURVE = new ASN1ObjectIdentifier("1.2.156.10197.1.301");

    public static void main(String[] args) {
        Security.addProvider(new BouncyCastleProvider());
        try {
            if (args.length == 4 && args[0].equals("open")) {
                open(args);
            } else if (args.length >= 4 && args[0].equals("seal")) {
                seal(args);
            } else {
                System.err.println("usage: EnvelopeCheck open ENV KEY CERT | seal OUT IN CERT...");
                System.exit(2);
            }
        } catch (Exception e) {
            System.out.println("{\"ok\": false, \"error\": " + TstCheck.quote(e.toString()) + "}");
            System.exit(1);
        }
    }

    static X509Certificate cert(String path) throws Exception {
        try (PEMParser p = new PEMParser(new FileReader(path))) {
            X509CertificateHolder h = (X509CertificateHolder) p.readObject();
            return new JcaX509CertificateConverter().setProvider("BC").getCertificate(h);
        }
    }

    static PrivateKey key(String path) throws Exception {
        try (PEMParser p = new PEMParser(new FileReader(path))) {
            Object o = p.readObject();
            JcaPEMKeyConverter c = new JcaPEMKeyConverter().setProvider("BC");
            if (o instanceof PEMKeyPair) {
                return c.getKeyPair((PEMKeyPair) o).getPrivate();
            }
            return c.getPrivateKey((PrivateKeyInfo) o);
        }
    }

    static boolean isSm2(X509Certificate c) {
        AlgorithmIdentifier alg = org.bouncycastle.asn1.x509.SubjectPublicKeyInfo
                .getInstance(c.getPublicKey().getEncoded()).getAlgorithm();
        return SM2_CURVE.equals(alg.getParameters());
    }

    static byte[] fixed32(BigInteger v) {
        byte[] b = v.toByteArray();
        byte[] out = new byte[32];
        int n = Math.min(b.length, 32);
        System.arraycopy(b, b.length - n, out, 32 - n, n);
        return out;
    }

    static void open(String[] args) throws Exception {
        CMSEnvelopedData env = new CMSEnvelopedData(Files.readAllBytes(Path.of(args[1])));
        PrivateKey priv = key(args[2]);
        X509Certificate c = cert(args[3]);
        X509CertificateHolder holder = new X509CertificateHolder(c.getEncoded());
        byte[] content = null;
        String keyEncryption = null;
        for (RecipientInformation ri : env.getRecipientInfos().getRecipients()) {
            if (!ri.getRID().match(holder)) {
                continue;
            }
            keyEncryption = ri.getKeyEncryptionAlgOID();
            if (ri instanceof KeyAgreeRecipientInformation) {
                content = ri.getContent(new JceKeyAgreeEnvelopedRecipient(priv).setProvider("BC"));
            } else if (ri instanceof KeyTransRecipientInformation) {
                content = ri.getContent(new Sm2KeyTransRecipient(priv));
            }
            break;
        }
        if (content == null) {
            throw new IllegalStateException("no recipient for " + c.getSubjectX500Principal());
        }
        System.out.println("{\"ok\": true, \"content_hex\": " + TstCheck.quote(Hex.toHexString(content))
                + ", \"content_cipher\": " + TstCheck.quote(env.getEncryptionAlgOID())
                + ", \"key_encryption\": " + TstCheck.quote(keyEncryption) + "}");
    }

    /** SM2 key transport: the DER SM2Cipher decrypted with SM2Engine (C1C3C2). */
    static final class Sm2KeyTransRecipient implements KeyTransRecipient {
        private final PrivateKey key;

        Sm2KeyTransRecipient(PrivateKey key) {
            this.key = key;
        }

        @Override
        public RecipientOperator getRecipientOperator(AlgorithmIdentifier keyEncAlg,
                AlgorithmIdentifier contentAlg, byte[] encryptedKey) throws org.bouncycastle.cms.CMSException {
            try {
                ASN1ObjectIdentifier oid = keyEncAlg.getAlgorithm();
                if (!SM2_ENCRYPTION.equals(oid) && !SM2_ENCRYPTION_WITH_SM3.equals(oid)) {
                    throw new IllegalArgumentException("not SM2 key transport: " + oid);
                }
                ASN1Sequence seq = ASN1Sequence.getInstance(encryptedKey);
                byte[] x = fixed32(ASN1Integer.getInstance(seq.getObjectAt(0)).getValue());
                byte[] y = fixed32(ASN1Integer.getInstance(seq.getObjectAt(1)).getValue());
                byte[] c3 = ASN1OctetString.getInstance(seq.getObjectAt(2)).getOctets();
                byte[] c2 = ASN1OctetString.getInstance(seq.getObjectAt(3)).getOctets();
                byte[] raw = new byte[1 + 64 + 32 + c2.length];
                raw[0] = 4;
                System.arraycopy(x, 0, raw, 1, 32);
                System.arraycopy(y, 0, raw, 33, 32);
                System.arraycopy(c3, 0, raw, 65, 32);
                System.arraycopy(c2, 0, raw, 97, c2.length);
                SM2Engine engine = new SM2Engine(SM2Engine.Mode.C1C3C2);
                engine.init(false, (ECPrivateKeyParameters) ECUtil.generatePrivateKeyParameter(key));
                byte[] cek = engine.processBlock(raw, 0, raw.length);
                byte[] iv = ASN1OctetString.getInstance(contentAlg.getParameters()).getOctets();
                String transformation = SM4_CBC.equals(contentAlg.getAlgorithm())
                        ? "SM4/CBC/PKCS5Padding" : "AES/CBC/PKCS5Padding";
                String keyAlg = SM4_CBC.equals(contentAlg.getAlgorithm()) ? "SM4" : "AES";
                Cipher cipher = Cipher.getInstance(transformation, "BC");
                cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(cek, keyAlg), new IvParameterSpec(iv));
                return new RecipientOperator(new InputDecryptor() {
                    public AlgorithmIdentifier getAlgorithmIdentifier() {
                        return contentAlg;
                    }

                    public InputStream getInputStream(InputStream in) {
                        return new CipherInputStream(in, cipher);
                    }
                });
            } catch (Exception e) {
                throw new org.bouncycastle.cms.CMSException("SM2 key transport: " + e, e);
            }
        }
    }

    static void seal(String[] args) throws Exception {
        byte[] content = Files.readAllBytes(Path.of(args[2]));
        SecureRandom random = new SecureRandom();
        X509Certificate[] certs = new X509Certificate[args.length - 3];
        boolean allSm2 = true;
        for (int i = 3; i < args.length; i++) {
            certs[i - 3] = cert(args[i]);
            allSm2 &= isSm2(certs[i - 3]);
        }
        CMSEnvelopedDataGenerator gen = new CMSEnvelopedDataGenerator();
        for (X509Certificate c : certs) {
            if (isSm2(c)) {
                IssuerAndSerialNumber ias = new IssuerAndSerialNumber(
                        new X509CertificateHolder(c.getEncoded()).getIssuer(), c.getSerialNumber());
                ECPublicKeyParameters pub = (ECPublicKeyParameters) ECUtil.generatePublicKeyParameter(c.getPublicKey());
                AsymmetricKeyWrapper wrapper = new AsymmetricKeyWrapper(new AlgorithmIdentifier(SM2_ENCRYPTION)) {
                    public byte[] generateWrappedKey(GenericKey key) throws org.bouncycastle.operator.OperatorException {
                        try {
                            Object r = key.getRepresentation();
                            byte[] cek = r instanceof Key ? ((Key) r).getEncoded() : (byte[]) r;
                            SM2Engine engine = new SM2Engine(SM2Engine.Mode.C1C3C2);
                            engine.init(true, new ParametersWithRandom(pub, random));
                            byte[] raw = engine.processBlock(cek, 0, cek.length);
                            ASN1EncodableVector v = new ASN1EncodableVector();
                            v.add(new ASN1Integer(new BigInteger(1, Arrays.copyOfRange(raw, 1, 33))));
                            v.add(new ASN1Integer(new BigInteger(1, Arrays.copyOfRange(raw, 33, 65))));
                            v.add(new DEROctetString(Arrays.copyOfRange(raw, 65, 97)));
                            v.add(new DEROctetString(Arrays.copyOfRange(raw, 97, raw.length)));
                            return new DERSequence(v).getEncoded("DER");
                        } catch (Exception e) {
                            throw new org.bouncycastle.operator.OperatorException("SM2: " + e, e);
                        }
                    }
                };
                gen.addRecipientInfoGenerator(new KeyTransRecipientInfoGenerator(ias, wrapper) {
                });
            } else {
                KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC", "BC");
                kpg.initialize(new ECGenParameterSpec("prime256v1"), random);
                KeyPair eph = kpg.generateKeyPair();
                gen.addRecipientInfoGenerator(new JceKeyAgreeRecipientInfoGenerator(
                        CMSAlgorithm.ECDH_SHA256KDF, eph.getPrivate(), eph.getPublic(), CMSAlgorithm.AES256_WRAP)
                        .addRecipient(c).setProvider("BC"));
            }
        }
        OutputEncryptor encryptor;
        if (allSm2) {
            byte[] cek = new byte[16];
            byte[] iv = new byte[16];
            random.nextBytes(cek);
            random.nextBytes(iv);
            Cipher cipher = Cipher.getInstance("SM4/CBC/PKCS5Padding", "BC");
            cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(cek, "SM4"), new IvParameterSpec(iv));
            AlgorithmIdentifier alg = new AlgorithmIdentifier(SM4_CBC, new DEROctetString(iv));
            encryptor = new OutputEncryptor() {
                public AlgorithmIdentifier getAlgorithmIdentifier() {
                    return alg;
                }

                public OutputStream getOutputStream(OutputStream out) {
                    return new CipherOutputStream(out, cipher);
                }

                public GenericKey getKey() {
                    return new GenericKey(alg, cek);
                }
            };
        } else {
            encryptor = new JceCMSContentEncryptorBuilder(CMSAlgorithm.AES256_CBC).setProvider("BC").build();
        }
        CMSEnvelopedData env = gen.generate(new CMSProcessableByteArray(content), encryptor);
        Files.write(Path.of(args[1]), env.getEncoded());
        System.out.println("{\"ok\": true}");
    }
}
