"""GLSL 330 shaders of the tiled guidance renderer (see gl_tiles.py).

The scene, sky and background passes write four targets at once:
    0 rgb       RGBA8   shaded colour (Lambert sun + ambient; contact shadows and the sky gradient by their passes)
    1 normal    RGBA8   camera-frame normal (OpenCV axes) encoded as n * 0.5 + 0.5; 0 = no surface
    2 depth     R32F    camera-frame z in metres (distance along the optical axis); 0 = no surface
    3 instance  R32I    instance id (0 = scene / background)
Normals are derived from the depth surface itself: the screen-space derivatives of the camera-frame
position (what a depth-to-normal filter computes, without its smoothing across object borders).
"""

SCENE_VS = """
#version 330
uniform mat4 u_proj;      // camera (OpenCV) -> clip
uniform mat4 u_view;      // world -> camera
uniform mat4 u_model;     // object -> world
in vec3 in_pos;
in vec4 in_color;
out vec3 v_cam;
out vec3 v_world;
out vec4 v_color;
void main() {
    vec4 w = u_model * vec4(in_pos, 1.0);
    v_world = w.xyz;
    v_cam = (u_view * w).xyz;
    v_color = in_color;
    gl_Position = u_proj * vec4(v_cam, 1.0);
}
"""

SCENE_FS = """
#version 330
uniform mat3 u_world_from_cam;
uniform int u_instance;
uniform vec3 u_sun_dir;        // world frame, towards the sun
uniform vec3 u_sun_color;
uniform vec3 u_fill_dir;       // a weak second light from the other side (sky bounce)
uniform vec3 u_fill_color;
uniform vec3 u_ambient;
in vec3 v_cam;
in vec3 v_world;
in vec4 v_color;
layout(location = 0) out vec4 o_rgb;
layout(location = 1) out vec4 o_normal;
layout(location = 2) out float o_depth;
layout(location = 3) out int o_instance;
void main() {
    vec3 n = normalize(cross(dFdx(v_cam), dFdy(v_cam)));
    if (dot(n, v_cam) > 0.0) n = -n;
    vec3 nw = u_world_from_cam * n;
    vec3 light = u_ambient + u_sun_color * max(dot(nw, u_sun_dir), 0.0) + u_fill_color * max(dot(nw, u_fill_dir), 0.0);
    o_rgb = vec4(min(v_color.rgb * light, 1.0), 1.0);
    o_normal = vec4(n * 0.5 + 0.5, 1.0);
    o_depth = v_cam.z;
    o_instance = u_instance;
}
"""

# Soft contact shadows: one ground quad per agent footprint (grown by the reach), drawn into the rgb
# target only, multiplying it (blend ZERO, SRC_COLOR) where the ground is visible.
SHADOW_VS = """
#version 330
uniform mat4 u_proj;
uniform mat4 u_view;
in vec3 in_pos;        // world
in vec2 in_local;      // metres from the footprint centre, along its length and width
in vec2 in_half;       // half length, half width
out vec2 v_local;
flat out vec2 v_half;
void main() {
    v_local = in_local;
    v_half = in_half;
    gl_Position = u_proj * (u_view * vec4(in_pos, 1.0));
}
"""

SHADOW_FS = """
#version 330
uniform float u_shadow_strength;
uniform float u_shadow_reach;
in vec2 v_local;
flat in vec2 v_half;
out vec4 o_rgb;
void main() {
    vec2 q = abs(v_local) - v_half;
    float d = length(max(q, 0.0)) + min(max(q.x, q.y), 0.0);
    float occ = 1.0 - smoothstep(-0.25, u_shadow_reach, d);
    o_rgb = vec4(vec3(1.0 - u_shadow_strength * occ), 1.0);
}
"""

# The sky fills what no geometry covered: drawn last at the far plane with depth test <=.
SKY_VS = """
#version 330
uniform vec2 u_tile_size;
uniform mat3 u_kinv;
uniform mat3 u_world_from_cam;
in vec2 in_xy;
noperspective out vec3 v_ray;
void main() {
    vec2 uv = (in_xy * 0.5 + 0.5) * u_tile_size - 0.5;   // pixel coordinates (v down: rows read top first)
    v_ray = u_world_from_cam * (u_kinv * vec3(uv, 1.0));
    gl_Position = vec4(in_xy, 1.0, 1.0);
}
"""

SKY_FS = """
#version 330
uniform vec3 u_sky_zenith;
uniform vec3 u_sky_horizon;
uniform vec3 u_ground_far;
noperspective in vec3 v_ray;
layout(location = 0) out vec4 o_rgb;
layout(location = 1) out vec4 o_normal;
layout(location = 2) out float o_depth;
layout(location = 3) out int o_instance;
void main() {
    float e = v_ray.z * inversesqrt(dot(v_ray, v_ray));
    vec3 sky = e >= 0.0 ? mix(u_sky_horizon, u_sky_zenith, smoothstep(0.0, 0.45, e))
                        : mix(u_sky_horizon, u_ground_far, smoothstep(0.0, 0.02, -e));
    o_rgb = vec4(sky, 1.0);
    o_normal = vec4(0.0);
    o_depth = 0.0;
    o_instance = 0;
}
"""

BACKGROUND_VS = """
#version 330
in vec2 in_xy;
void main() { gl_Position = vec4(in_xy, 0.0, 1.0); }
"""

BACKGROUND_FS = """
#version 330
uniform sampler2D u_bg_color;      // tiled like the framebuffer
uniform sampler2D u_bg_depth;
uniform sampler2D u_bg_normal;
uniform vec2 u_depth_ab;           // clip-space depth = a + b / z
layout(location = 0) out vec4 o_rgb;
layout(location = 1) out vec4 o_normal;
layout(location = 2) out float o_depth;
layout(location = 3) out int o_instance;
void main() {
    ivec2 px = ivec2(gl_FragCoord.xy);
    float z = texelFetch(u_bg_depth, px, 0).r;
    o_rgb = vec4(texelFetch(u_bg_color, px, 0).rgb, 1.0);
    o_normal = z > 0.0 ? vec4(texelFetch(u_bg_normal, px, 0).rgb, 1.0) : vec4(0.0);
    o_depth = z;
    o_instance = 0;
    gl_FragDepth = z > 0.0 ? clamp((u_depth_ab.x + u_depth_ab.y / z) * 0.5 + 0.5, 0.0, 1.0) : 1.0;
}
"""
