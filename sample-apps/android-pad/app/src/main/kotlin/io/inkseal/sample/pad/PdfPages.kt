package io.inkseal.sample.pad

import android.graphics.Bitmap
import android.graphics.Color
import android.graphics.pdf.PdfRenderer
import android.os.ParcelFileDescriptor
import java.io.File
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/**
 * Contract pages as bitmaps with android.graphics.pdf.PdfRenderer. Note: the platform renderer
 * draws page content but not form widgets, so a signature's appearance does not show on a
 * rendered signed page (the result screen shows the ink preview beside the verdict).
 */
object PdfPages {
    /** Pages [pages] (1-based, default all) of [file], [widthPx] wide, off the main thread. */
    suspend fun render(file: File, widthPx: Int, pages: IntRange? = null): List<Bitmap> = withContext(Dispatchers.IO) {
        ParcelFileDescriptor.open(file, ParcelFileDescriptor.MODE_READ_ONLY).use { fd ->
            PdfRenderer(fd).use { renderer ->
                val wanted = pages ?: 1..renderer.pageCount
                wanted.filter { it in 1..renderer.pageCount }.map { n ->
                    renderer.openPage(n - 1).use { page ->
                        val height = widthPx * page.height / page.width
                        Bitmap.createBitmap(widthPx, height, Bitmap.Config.ARGB_8888).also {
                            it.eraseColor(Color.WHITE)
                            page.render(it, null, null, PdfRenderer.Page.RENDER_MODE_FOR_DISPLAY)
                        }
                    }
                }
            }
        }
    }
}
