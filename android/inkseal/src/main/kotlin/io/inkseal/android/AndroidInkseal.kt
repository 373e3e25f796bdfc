// Android conveniences (they need android.content.Context, so the desktop JVM tests do not
// compile this file; Gradle does).
package io.inkseal.android

import android.content.Context
import io.inkseal.FileBlobStore
import io.inkseal.Inkseal
import io.inkseal.InksealClient
import io.inkseal.PlatformKey
import java.io.File

/**
 * The client an Android app normally wants: shares wrapped by an Android Keystore key and
 * stored as files under the app's no-backup directory; device keys (which sign every request)
 * in the Android Keystore, attested at enrollment ([AndroidKeystoreDeviceKeys]).
 *
 * Loads the native library (so that JNI_OnLoad gives the library the JVM).
 */
fun Inkseal.androidClient(
    context: Context,
    serverUrl: String,
    pinnedServerCertsPem: List<String>? = null,
    userAuthValiditySeconds: Int? = null,
    preferStrongBox: Boolean = false,
): InksealClient {
    Inkseal.init()
    val key = PlatformKey.androidKeystore(userAuthValiditySeconds = userAuthValiditySeconds)
    val blobs = FileBlobStore(File(context.noBackupFilesDir, "inkseal-shares"))
    val deviceKeys = AndroidKeystoreDeviceKeys(preferStrongBox = preferStrongBox)
    return InksealClient.create(serverUrl, key, blobs, deviceKeys, pinnedServerCertsPem)
}
