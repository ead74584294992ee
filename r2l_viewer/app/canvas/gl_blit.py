"""OpenGL drawing of one image: upload it as a texture and draw it as a quad (GLSL 1.20, any GL >= 2.1)."""

from __future__ import annotations

import ctypes

import numpy as np
from OpenGL import GL
from PyQt6.QtOpenGL import QOpenGLShader, QOpenGLShaderProgram

VERTEX = """
#version 120
attribute vec2 position;
varying vec2 uv;
void main() {
    uv = vec2(position.x * 0.5 + 0.5, 0.5 - position.y * 0.5);  // image row 0 at the top
    gl_Position = vec4(position, 0.0, 1.0);
}
"""

FRAGMENT = """
#version 120
uniform sampler2D image;
varying vec2 uv;
void main() { gl_FragColor = vec4(texture2D(image, uv).rgb, 1.0); }
"""

QUAD = np.array([-1, -1, 1, -1, -1, 1, 1, 1], dtype=np.float32)


class GLError(RuntimeError):
    """The GL context cannot do what the canvas needs (the caller falls back to QPainter)."""


class TextureBlitter:
    """Owns one texture, one shader program and one vertex buffer in the current GL context."""

    def __init__(self):
        self.program = QOpenGLShaderProgram()
        ok = self.program.addShaderFromSourceCode(QOpenGLShader.ShaderTypeBit.Vertex, VERTEX)
        ok = ok and self.program.addShaderFromSourceCode(QOpenGLShader.ShaderTypeBit.Fragment, FRAGMENT)
        self.program.bindAttributeLocation("position", 0)
        if not (ok and self.program.link()):
            raise GLError(f"shader setup failed: {self.program.log().strip()}")
        self.texture = int(GL.glGenTextures(1))
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.texture)
        for name, value in ((GL.GL_TEXTURE_MIN_FILTER, GL.GL_LINEAR), (GL.GL_TEXTURE_MAG_FILTER, GL.GL_LINEAR),
                            (GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE), (GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)):
            GL.glTexParameteri(GL.GL_TEXTURE_2D, name, value)
        self.buffer = int(GL.glGenBuffers(1))
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.buffer)
        GL.glBufferData(GL.GL_ARRAY_BUFFER, QUAD.nbytes, QUAD, GL.GL_STATIC_DRAW)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)
        self.size: tuple[int, int] | None = None

    def upload(self, rgb: np.ndarray) -> None:
        """Copy an H x W x 3 uint8 image into the texture (reallocated only when the size changes)."""
        h, w = rgb.shape[:2]
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.texture)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
        if self.size != (w, h):
            GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_RGB8, w, h, 0, GL.GL_RGB, GL.GL_UNSIGNED_BYTE, rgb)
            self.size = (w, h)
        else:
            GL.glTexSubImage2D(GL.GL_TEXTURE_2D, 0, 0, 0, w, h, GL.GL_RGB, GL.GL_UNSIGNED_BYTE, rgb)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 4)  # restore the default for Qt's own uploads
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)

    def draw(self, x: int, y: int, width: int, height: int) -> None:
        """Draw the texture into the viewport rectangle (GL pixel coordinates, origin bottom left)."""
        if self.size is None:
            return
        GL.glViewport(x, y, width, height)
        GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glDisable(GL.GL_BLEND)
        self.program.bind()
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.texture)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.buffer)
        GL.glEnableVertexAttribArray(0)
        GL.glVertexAttribPointer(0, 2, GL.GL_FLOAT, GL.GL_FALSE, 0, ctypes.c_void_p(0))
        GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)
        GL.glDisableVertexAttribArray(0)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        self.program.release()

    def delete(self) -> None:
        GL.glDeleteTextures([self.texture])
        GL.glDeleteBuffers(1, [self.buffer])
