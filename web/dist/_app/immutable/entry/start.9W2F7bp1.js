import{s as r}from"../chunks/DcpEdhf2.js";import{y as t}from"../chunks/U1YQloXF.js";export{t as load_css,r as start};
