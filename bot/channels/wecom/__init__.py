"""The WeCom (企业微信) channel: an intelligent bot over WeCom's long connection."""
